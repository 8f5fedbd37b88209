"""The public status page of an incident: ``/status/<id>-<token>``, no login.

``tokens`` makes and checks the unguessable link, ``masking`` hides personal data
(152-FZ), ``services`` loads the incident and builds what residents may see, ``views``
answers with cache validators and the same 404 for every link that shows nothing.
"""
