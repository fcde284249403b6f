from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import StaffLoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=StaffLoginForm),
        name="login",
    ),
    path("two-factor/", views.two_factor, name="two-factor"),
    path("two-factor/enrol/", views.two_factor_enrol, name="two-factor-enrol"),
    path("two-factor/recovery-codes/", views.new_recovery_codes, name="recovery-codes"),
    path("session/", views.session_status, name="session"),
    path("preferences/", views.preferences, name="preferences"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("shifts/", views.shifts, name="shifts"),
    path("shifts/check-in", views.check_in, name="shift-check-in"),
    path("shifts/check-out", views.check_out, name="shift-check-out"),
]
