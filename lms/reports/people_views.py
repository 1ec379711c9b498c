from flask import Blueprint

bp = Blueprint("people_reports", __name__, url_prefix="/reports")
