"""Staff login: the second factor and idle sessions (docs/security.md, "Staff login").

Read from the environment like base.py; the lockout (django-axes) and the password rules stay in base.py.
"""

from console.environment import env_int

# Minutes without a key press, click or page load after which a staff session ends; the console
# warns one minute before. The wall's own WebSocket traffic does not count as activity.
LIVEWARD_IDLE_MINUTES = env_int("LIVEWARD_IDLE_MINUTES", 30, minimum=2, maximum=24 * 60)

# django-otp: the name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "Liveward"
# django-otp's own back-off (1, 2, 4 … seconds after each wrong code) is off: wrong codes count toward
# the per-account limit instead (accounts/second_factor.py), the same limit as wrong passwords.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
