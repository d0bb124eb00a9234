"""Extensions created once, bound to each app with ``init_app`` (the factory pattern)."""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to see that page."
# "strong" would sign a student out whenever their address changes (phones, campus Wi-Fi).
login_manager.session_protection = "basic"

csrf = CSRFProtect()
