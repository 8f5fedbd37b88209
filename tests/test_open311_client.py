"""Done when: the ``georeport`` client from PyPI (0.3.1, unchanged) talks to the desk served
over real HTTP — lists the services, reads a service definition, posts a request, reads
its status and finds it in a list — once in JSON and once in XML; the posted request is
in the operators' queue as a new Open311 ticket.

georeport 0.3.1 has no method to post a request nor to read a token (its ``GeoReport``
class only reads: services, a service definition, requests, a request). The post and the
token lookup go through :func:`post_request` and :func:`token_lookup` below: a few lines
with ``requests`` (georeport's own HTTP library), built from the client's own
``root_address``, ``api_key`` and ``output_format``, sending the form-encoded fields the
spec names. Everything the library can do, it does itself.
"""
from __future__ import annotations

import pytest
import requests
import xmltodict
from georeport import GeoReport

from desk.extensions import db
from desk.models import Platform, Role, Ticket, TicketStatus
from desk.models.intake import Open311Key


def post_request(client: GeoReport, **fields: str) -> dict:
    """``POST requests.{format}`` as the spec says (what georeport 0.3.1 lacks)."""
    response = requests.post(f"{client.root_address}/requests.{client.output_format}",
                             data={"api_key": client.api_key, **fields}, timeout=10)
    response.raise_for_status()
    if client.output_format == "json":
        return response.json()[0]
    return xmltodict.parse(response.content)["service_requests"]["request"]


def token_lookup(client: GeoReport, token: str) -> dict:
    """``GET tokens/{token}.{format}`` (also missing from georeport 0.3.1)."""
    response = requests.get(f"{client.root_address}/tokens/{token}.{client.output_format}", timeout=10)
    response.raise_for_status()
    if client.output_format == "json":
        return response.json()[0]
    return xmltodict.parse(response.content)["service_requests"]["request"]


@pytest.fixture
def served_city(app, make, live_server):
    app.config["DESK_PUBLIC_URL"] = live_server.url
    housing = make.department("Управление ЖКХ")
    roads = make.category("Дороги и дворы", default_department=housing, direction="housing")
    key, plain = Open311Key.issue("Городской портал")
    db.session.add(key)
    db.session.commit()
    return live_server.url + "/open311/v2", roads, plain


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_georeport_client_lists_posts_and_follows_a_request(served_city, output_format, make, login_as):
    root_address, roads, plain = served_city
    client = GeoReport(root_address, api_key=plain, output_format=output_format)

    services = client.get_service_list()
    # xmltodict reads a single <service> as a dict, several as a list; JSON is always a list
    (service,) = services if isinstance(services, list) else [services]
    assert service["service_code"] == str(roads.id) and service["service_name"] == "Дороги и дворы"
    assert service["group"] == "ЖКХ" and service["type"] == "realtime"
    assert service["metadata"] in (False, "false")
    definition = client.get_service_definition(service["service_code"])
    assert definition["service_code"] == str(roads.id)

    filed = post_request(client, service_code=service["service_code"], lat="62.0281", long="129.7326",
                         description="Открытый люк у дома 7, звоните 8 914 123-45-67",
                         email="resident@example.ru", first_name="Анна")
    request_id = filed["service_request_id"]
    assert request_id and filed["token"]
    assert token_lookup(client, filed["token"])["service_request_id"] == request_id

    status = client.get_service_request(request_id)
    assert status["service_request_id"] == request_id and status["status"] == "open"
    assert status["service_code"] == str(roads.id)
    assert status["description"] == "Открытый люк у дома 7, звоните [телефон скрыт]"
    assert float(status["lat"]) == 62.0281 and float(status["long"]) == 129.7326
    listed = client.get_service_requests(service_request_id=request_id)
    (row,) = listed if isinstance(listed, list) else [listed]
    assert row["service_request_id"] == request_id
    recent = client.get_service_requests(service_code=str(roads.id), status="open")
    recent = recent if isinstance(recent, list) else [recent]
    assert [r["service_request_id"] for r in recent] == [request_id]

    # In the operators' queue: a new ticket from Open311.
    db.session.expire_all()
    ticket = db.session.get(Ticket, int(request_id))
    assert ticket.platform == Platform.OPEN311 and ticket.status == TicketStatus.NEW
    queue = login_as(make.user(Role.OPERATOR)).get("/queue?platform=open311&status=new")
    assert queue.status_code == 200
    assert f'data-ticket-id="{request_id}"' in queue.get_data(as_text=True)
