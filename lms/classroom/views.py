from flask import Blueprint

bp = Blueprint("classroom", __name__, url_prefix="/sessions")
