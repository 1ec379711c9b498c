"""The printable certificate (for whoever may read the holder's archive) and the public
verification page, which confirms a code and reveals nothing beyond the certificate itself."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.certificates import services
from lms.clock import utcnow

bp = Blueprint("certificates", __name__)


@bp.route("/certificates/<int:certificate_id>")
@login_required
def show(certificate_id: int):
    try:
        certificate = services.load_certificate_for(current_user._get_current_object(), certificate_id)
    except LookupError:
        abort(404)
    except PermissionError:
        abort(403)
    return render_template("certificates/show.html", certificate=certificate,
                           status=services.certificate_status(certificate, utcnow()),
                           verify_url=url_for("certificates.verify", code=certificate.code, _external=True))


@bp.route("/verify")
def verify_form():
    """Type the code printed on a certificate; a typed code goes to its page."""
    typed = request.args.get("code", "")
    if typed.strip():
        code = services.normalize_code(typed)
        if code:
            return redirect(url_for("certificates.verify", code=code))
        return render_template("certificates/verify.html", verification=None, code=typed.strip()[:40]), 404
    return render_template("certificates/verify_form.html")


@bp.route("/verify/<code>")
def verify(code: str):
    canonical = services.normalize_code(code)
    if canonical and canonical != code:  # typed from paper: lower case, spaces, hyphens left out
        return redirect(url_for("certificates.verify", code=canonical))
    verification = services.verify(code, utcnow()) if canonical else None
    if verification is None:
        return render_template("certificates/verify.html", verification=None, code=code[:40]), 404
    return render_template("certificates/verify.html", verification=verification, code=canonical)
