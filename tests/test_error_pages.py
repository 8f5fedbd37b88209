"""Error pages other than 403/404/500 speak the user's language and keep their headers."""
from __future__ import annotations


def test_an_expired_form_explains_itself_in_russian(client):
    response = client.post("/login", data={"email": "a@b.c", "password": "x"})  # no CSRF token
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Форма устарела" in html and "Bad Request" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_wrong_method_is_a_russian_page_with_the_allow_header(client):
    response = client.post("/lang/ru")
    html = response.get_data(as_text=True)
    assert response.status_code == 405
    assert "Этот адрес нельзя открыть таким способом" in html and "Method Not Allowed" not in html
    assert "GET" in response.headers["Allow"]
    assert response.mimetype == "text/html"


def test_the_api_still_answers_errors_in_json(client):
    response = client.post("/api/v1/openapi.json")
    assert response.status_code == 405 and response.is_json
