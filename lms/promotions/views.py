from flask import Blueprint

bp = Blueprint("promotions", __name__, url_prefix="/promotions")
