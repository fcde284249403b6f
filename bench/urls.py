"""The console's URLs plus /bench/floor, the trivial view the bench scripts compare against."""

from django.urls import path

from bench import views
from console.urls import urlpatterns as console_urlpatterns

urlpatterns = [path("bench/floor", views.floor, name="bench-floor"), *console_urlpatterns]
