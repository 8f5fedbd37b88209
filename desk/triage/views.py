from flask import Blueprint
bp = Blueprint("triage", __name__)
@bp.route("/queue")
def queue():
    return "queue"
