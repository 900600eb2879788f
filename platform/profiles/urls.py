from django.urls import path

from profiles import views

urlpatterns = [path("users/<str:username>/", views.profile, name="profile")]
