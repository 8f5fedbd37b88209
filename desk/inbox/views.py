from flask import Blueprint
bp = Blueprint("inbox", __name__)
@bp.route("/inbox")
def inbox():
    return "inbox"
