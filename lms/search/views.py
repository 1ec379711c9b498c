from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from lms.clock import utcnow
from lms.search import services

bp = Blueprint("search", __name__)


@bp.route("/search")
@login_required
def results():
    """One search box for everyone signed in: what each may find is the service's rule."""
    raw = request.args.get("q", "")
    # Opened from the search icon (no `q`): the box alone; submitted empty: the service says what to type.
    found = services.search(current_user._get_current_object(), raw, utcnow()) if "q" in request.args else None
    return render_template("search/results.html", found=found, q=raw[:services.MAX_QUERY * 2],
                           max_query=services.MAX_QUERY)
