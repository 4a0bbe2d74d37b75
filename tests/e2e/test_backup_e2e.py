"""Backup page in a real browser: prepare and download a ZIP backup, upload it back, see the preview and the
refusal to restore rides that are already in the database."""

import json
import zipfile

from tests.e2e.conftest import open_app, screenshot, wait_for_app


def test_a_backup_downloads_and_uploading_it_back_previews_then_refuses_duplicates(start_app, browser_page, tmp_path):
    server = start_app()
    page = browser_page
    open_app(page, server, "/backup")
    wait_for_app(page)
    page.get_by_role("heading", name="Backup").first.wait_for()
    page.get_by_role("button", name="Prepare backup").click()
    download_button = page.get_by_role("button", name="Download velocoach-")
    download_button.wait_for(timeout=120_000)
    with page.expect_download(timeout=120_000) as info:
        download_button.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".zip"
    with zipfile.ZipFile(saved) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format"] == "velocoach-backup" and manifest["tables"]["rides"]["rows"] > 10

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(saved))
    restore = page.get_by_role("button", name="Restore as a new athlete")
    restore.wait_for(timeout=120_000)
    preview = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="exported").filter(
        has_text="Demo Rider")
    preview.first.wait_for()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    screenshot(page, "backup_preview")
    restore.click()
    page.get_by_text("already in this database").wait_for(timeout=120_000)
    wait_for_app(page)
    shot = screenshot(page, "backup_refused_duplicate")
    assert shot.stat().st_size > 10_000
    assert "Traceback" not in page.content()
    assert all("127.0.0.1" not in url for url in page.blocked_requests)
