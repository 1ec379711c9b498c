"""A demo agent on a phone opens their training record, prints it to PDF, opens a certificate
from it, and anyone with the printed code sees the certificate confirmed. Real sample content,
the demo accounts and their archives as `lms demo` writes them, CSRF on."""
import pytest
from sqlalchemy import select

from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from lms.models import Certificate, User
from tests.browser.conftest import PHONE, SAMPLE_DEMO_CONFIG, horizontal_overflow, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return SAMPLE_DEMO_CONFIG



def test_agent_prints_the_record_and_a_certificate_is_verified(demo, live_server, phone, browser):
    agent = db.session.scalar(select(User).where(User.employee_no == "E1003"))
    log_in(phone, live_server, "E1003", DEMO_PASSWORD)
    phone.locator(".tabbar a[href='/records/me']").tap()
    phone.wait_for_url(f"{live_server}/records/E1003")
    assert agent.name in phone.content()
    assert horizontal_overflow(phone) <= 0

    # what HR gets: the record as a PDF, printed by the browser with the print stylesheet
    pdf = phone.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000 and b"%%EOF" in pdf[-1024:]
    try:
        from pypdf import PdfReader
    except ImportError:
        pass
    else:
        import io

        pages = PdfReader(io.BytesIO(pdf)).pages
        assert len(pages) >= 1 and "E1003" in "".join(page.extract_text() for page in pages)

    links = phone.locator("#certificates .certificate-list a")
    held = db.session.scalars(select(Certificate).where(Certificate.user_id == agent.id)).all()
    assert links.count() == len(held) >= 10  # a course completion or a promotion each
    link = links.first
    title = link.inner_text()
    link.scroll_into_view_if_needed()
    link.tap()
    phone.wait_for_url(f"{live_server}/certificates/*")
    certificate = phone.locator("#certificate")
    assert agent.name in certificate.locator(".certificate-holder").inner_text()
    assert title in certificate.inner_text()
    code = certificate.locator(".certificate-code").inner_text().strip()
    verify_url = certificate.locator(".certificate-url").inner_text().strip()
    assert verify_url == f"{live_server}/verify/{code}"
    assert horizontal_overflow(phone) <= 0

    # anyone holding the paper: no login, the code typed from it in lower case
    context = browser.new_context(**PHONE, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/verify/{code.lower()}")
        page.wait_for_url(verify_url)
        verification = page.locator("#verification")
        assert verification.locator(".status-valid").count() == 1
        assert agent.name in verification.inner_text() and code in verification.inner_text()
    finally:
        context.close()
