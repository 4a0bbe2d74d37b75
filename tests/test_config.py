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
