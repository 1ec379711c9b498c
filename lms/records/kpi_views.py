from flask import Blueprint

bp = Blueprint("kpi", __name__, url_prefix="/kpi")
