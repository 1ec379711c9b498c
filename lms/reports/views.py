"""The programme reports' pages (overview, teams, courses). Other report pages have their own modules
(item_views, people_views, audit_views); this blueprint also gives every template `chart_spec`."""
from flask import Blueprint

from lms.reports.tables import chart_spec

bp = Blueprint("reports", __name__, url_prefix="/reports")
bp.add_app_template_global(chart_spec, "chart_spec")
