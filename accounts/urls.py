from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.forms import StaffLoginForm
from console.views import StaffLogoutView

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=StaffLoginForm),
        name="login",
    ),
    path("logout/", StaffLogoutView.as_view(), name="logout"),
]
