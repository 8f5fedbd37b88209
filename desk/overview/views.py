from flask import Blueprint
bp = Blueprint("overview", __name__)
@bp.route("/overview")
def overview():
    return "overview"
