"""The app starts with `streamlit run`, renders offline, and its navigation reaches the settings page."""

from tests.e2e.conftest import screenshot, wait_for_app


def test_the_app_renders_offline_with_navigation(start_app, browser_page, tmp_path):
    server = start_app(VELOCOACH_SEED_DEMO="0")
    page = browser_page
    page.goto(f"{server.url}/settings")
    wait_for_app(page)
    page.get_by_role("heading", name="Settings").wait_for()
    page.get_by_role("button", name="Save profile").wait_for()
    ftp = page.get_by_role("spinbutton", name="FTP (W)").first
    ftp.wait_for(state="visible")
    assert ftp.input_value() == "0"
    shot = screenshot(page, "app_settings")
    assert shot.stat().st_size > 10_000
    assert "Traceback" not in page.content()
    # Nothing but localhost was needed (blocked requests would be fonts/tiles the app must not depend on).
    assert all("127.0.0.1" not in url for url in page.blocked_requests)
