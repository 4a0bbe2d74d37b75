"""Settings: environment over secrets.toml over defaults; validation names the setting, never a secret."""

import logging

import pytest

from core.config import load_settings
from core.errors import ConfigError


def test_environment_overrides_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('ai_model = "from-file"\nmax_upload_mb = 50\n')
    settings = load_settings({"VELOCOACH_MAX_UPLOAD_MB": "20"}, secrets)
    assert settings.ai_model == "from-file"
    assert settings.max_upload_mb == 20


def test_an_invalid_setting_is_named_and_the_key_never_shown(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings({"VELOCOACH_ENV": "staging", "OPENAI_API_KEY": "sk-very-secret"}, tmp_path / "none.toml")
    assert "env" in str(info.value)
    assert "sk-very-secret" not in str(info.value)


def test_the_ai_key_is_masked_in_repr_and_logs(tmp_path, caplog):
    settings = load_settings({"OPENAI_API_KEY": "sk-very-secret"}, tmp_path / "none.toml")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("settings: %r", settings)
    assert settings.ai_enabled
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in caplog.text


def test_a_broken_secrets_file_is_a_clear_error(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="secrets.toml cannot be read"):
        load_settings({}, secrets)


def test_no_key_means_ai_is_off(tmp_path):
    assert not load_settings({}, tmp_path / "none.toml").ai_enabled


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("VELOCOACH_MAX_UPLOAD_MB", "0", "max_upload_mb"), ("VELOCOACH_MAX_UPLOAD_MB", "12.5", "max_upload_mb"),
    ("VELOCOACH_MAX_UPLOAD_MB", "lots", "max_upload_mb"), ("VELOCOACH_AI_TIMEOUT_S", "0", "ai_timeout_s"),
    ("VELOCOACH_AI_TIMEOUT_S", "nan", "ai_timeout_s"), ("VELOCOACH_SESSION_HOURS", "721", "session_hours"),
    ("VELOCOACH_SYNC_CHECK_S", "0.01", "sync_check_s"), ("VELOCOACH_SEED_DEMO", "maybe", "seed_demo"),
    ("VELOCOACH_AI_BASE_URL", "ftp://example.org", "ai_base_url"), ("VELOCOACH_FEATURES", "teleport", "features"),
    ("VELOCOACH_ALLOWED_HOSTS", "*", "allowed_hosts"), ("VELOCOACH_ALLOWED_HOSTS", "bad_host!", "allowed_hosts"),
    ("VELOCOACH_ANSWERS", "sometimes", "keep_answers")])
def test_each_bad_setting_is_refused_naming_it(variable, value, named, tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings({variable: value, "OPENAI_API_KEY": "sk-very-secret"}, tmp_path / "none.toml")
    assert str(info.value).startswith("Invalid setting — ") and f"{named}:" in str(info.value)
    assert "sk-very-secret" not in str(info.value)


def test_two_bad_settings_are_both_named(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings({"VELOCOACH_ENV": "staging", "VELOCOACH_MAX_UPLOAD_MB": "-1"}, tmp_path / "none.toml")
    assert "env:" in str(info.value) and "max_upload_mb:" in str(info.value)


def test_values_from_text_become_typed_settings(tmp_path):
    settings = load_settings({"VELOCOACH_MAX_UPLOAD_MB": " 20 ", "VELOCOACH_AI_TIMEOUT_S": "2.5",
                              "VELOCOACH_SEED_DEMO": "off", "VELOCOACH_ALLOWED_HOSTS": "VeloCoach.LAN., *.example.org",
                              "VELOCOACH_FEATURES": "-garmin_sync, ai_coach=off", "VELOCOACH_DB": str(tmp_path / "x.db")},
                             tmp_path / "none.toml")
    assert settings.max_upload_mb == 20 and settings.max_upload_bytes == 20 * 1024 * 1024
    assert settings.ai_timeout_s == 2.5 and settings.seed_demo is False and not settings.demo_seeding
    assert settings.allowed_hosts == ("velocoach.lan", "*.example.org")
    assert not settings.feature("garmin_sync") and not settings.feature("ai_coach") and settings.feature("health_page")
    assert settings.db_path == tmp_path / "x.db" and settings.files_dir == tmp_path


def test_a_secrets_file_sets_only_known_settings_and_its_key_stays_masked(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[velocoach]\nai_api_key = "sk-from-file-123"\nmax_upload_mb = 7\nunknown = "ignored"\n')
    settings = load_settings({}, secrets)
    assert settings.max_upload_mb == 7 and settings.ai_api_key.get_secret_value() == "sk-from-file-123"
    assert "sk-from-file-123" not in repr(settings) and "sk-from-file-123" not in f"{settings.ai_api_key}"
