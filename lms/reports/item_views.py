from flask import Blueprint

bp = Blueprint("item_analysis", __name__, url_prefix="/reports/exams")
