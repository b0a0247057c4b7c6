"""The triage app's pages and API (the project's own routes: config/urls.py)."""
from django.urls import path

from triage_app import api, views

urlpatterns = [
    path("", views.submit_page, name="submit"),
    path("track/<str:tracking_code>/", views.track_page, name="track"),
    path("track/<str:tracking_code>/rate/", views.track_rate, name="track-rate"),
    path("track/<str:tracking_code>/unsubscribe/", views.track_unsubscribe, name="track-unsubscribe"),
    path("staff/", views.staff_queue_page, name="staff-queue"),
    path("staff/complaints/<uuid:complaint_id>/", views.complaint_page, name="staff-complaint"),
    path("staff/complaints/<uuid:complaint_id>/assign/", views.complaint_assign_view, name="staff-complaint-assign"),
    path("staff/complaints/<uuid:complaint_id>/correct/", views.complaint_correct_view, name="staff-complaint-correct"),
    path("staff/complaints/<uuid:complaint_id>/<str:action>/", views.complaint_action, name="staff-complaint-action"),
    path("staff/search/", views.search_view, name="staff-search"),
    path("staff/mail/", views.mail_page, name="staff-mail"),
    path("staff/mail/<str:key>/", views.mail_message_page, name="staff-mail-message"),
    path("manage/policy/", views.policy_page, name="manage-policy"),
    path("manage/sla/", views.sla_page, name="manage-sla"),
    path("manage/experiment/", views.experiment_page, name="manage-experiment"),
    path("manage/ab/", views.ab_results_page, name="manage-ab"),
    path("manage/health/", views.health_page, name="manage-health"),
    path("api/complaints/", api.ComplaintCreateView.as_view(), name="api-complaint-create"),
    path("api/complaints/<str:tracking_code>/", api.ComplaintTrackView.as_view(), name="api-complaint-track"),
    path("api/queue/", api.QueueView.as_view(), name="api-queue"),
    path("api/search/", api.SearchView.as_view(), name="api-search"),
    path("api/staff/complaints/<uuid:complaint_id>/", api.StaffComplaintView.as_view(), name="api-staff-complaint"),
    path("api/staff/complaints/<uuid:complaint_id>/assignment/", api.AssignmentView.as_view(),
         name="api-staff-assignment"),
    path("api/staff/complaints/<uuid:complaint_id>/corrections/", api.CorrectionView.as_view(),
         name="api-staff-corrections"),
    path("api/staff/complaints/<uuid:complaint_id>/<str:action>/", api.StaffActionView.as_view(),
         name="api-staff-action"),
]
