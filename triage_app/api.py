"""JSON API (DRF): public submission and tracking, the staff queue and staff actions.

Views validate, call a service or selector, and shape the answer; nothing else.
"""
from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from triage_app import errors, selectors, services
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.models import Complaint, Correction
from triage_app.ratelimit import rate_limit_hit
from triage_app.serializers import QueueItemOut
from triage_app.validation import EMAIL_MAX_CHARS, complaint_input_validate
from triage_core.messages import MAX_MESSAGE_CHARS, MAX_TEXT_CHARS, MIN_TEXT_CHARS, text_storable


def exception_handler(exc, context):
    """The one place where the domain's exceptions become HTTP answers: input a person
    can fix is a 400 naming each field, a refused action a 409 saying why, a row that
    does not exist (or no longer does) a 404; a body that is not JSON is a 400 naming it.
    Everything else is DRF's."""
    if isinstance(exc, InvalidInput):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ActionRefused):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ObjectDoesNotExist):
        return Response({"detail": errors.NOT_FOUND}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, exceptions.ParseError):
        return Response({"non_field_errors": [errors.BODY_NOT_JSON]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return Response({"non_field_errors": [errors.BODY_WRONG_MEDIA_TYPE]}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def client_ip(request) -> str | None:
    """The client's address, for rate limits and login throttling.

    daphne puts the peer in REMOTE_ADDR. When that peer is one of the deployment's
    proxies (TRIAGE_TRUSTED_PROXIES), the client is the right-most hop of
    X-Forwarded-For that is not a trusted proxy: every hop left of it was written by the
    client itself and could be anything (daphne's --proxy-headers trusts the left-most,
    which let a client pick a new address per request and reset its own limits)."""
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None or not _trusted_proxy(peer):
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted_proxy(hop):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRIAGE_TRUSTED_PROXIES)


def client_address(request) -> str:
    """The client for rate limits: its address, or "unknown" (one shared bucket)."""
    return client_ip(request) or "unknown"


def submission_retry_after(request) -> int:
    limit, window = settings.TRIAGE_SUBMIT_RATE
    return rate_limit_hit(scope="submit", client=client_address(request), limit=limit, window_s=window)


def rate_limited_response(retry_after: int) -> Response:
    return Response({"detail": errors.RATE_LIMITED.format(seconds=retry_after)},
                    status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(retry_after)})


ComplaintIn = inline_serializer("ComplaintIn", {
    "text": serializers.CharField(min_length=MIN_TEXT_CHARS, max_length=MAX_TEXT_CHARS),
    "email": serializers.EmailField(required=False, max_length=EMAIL_MAX_CHARS),
})
ComplaintCreated = inline_serializer("ComplaintCreated", {
    "id": serializers.UUIDField(), "tracking_code": serializers.CharField(),
    "status": serializers.CharField(),
})
FieldErrors = inline_serializer("FieldErrors", {
    "text": serializers.ListField(child=serializers.CharField(), required=False),
    "email": serializers.ListField(child=serializers.CharField(), required=False),
    "non_field_errors": serializers.ListField(child=serializers.CharField(), required=False),
})
ComplaintPublic = inline_serializer("ComplaintPublic", {
    "id": serializers.UUIDField(), "tracking_code": serializers.CharField(),
    "status": serializers.ChoiceField(choices=Complaint.Status.choices),
    "created_at": serializers.DateTimeField(),
    "history": serializers.ListField(child=serializers.DictField()),
    "replies": serializers.ListField(child=serializers.DictField()),
    "customer_messages": serializers.ListField(child=serializers.DictField()),
})
Detail = inline_serializer("Detail", {"detail": serializers.CharField()})


class ComplaintCreateView(APIView):
    """Anyone may complain; there is no session to protect, hence no authentication."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=ComplaintIn, responses={201: ComplaintCreated, 400: FieldErrors, 429: Detail})
    def post(self, request: Request) -> Response:
        retry_after = submission_retry_after(request)
        if retry_after:
            return rate_limited_response(retry_after)
        cleaned = complaint_input_validate(data=request.data)
        complaint = services.complaint_submit(text=cleaned.text, email=cleaned.email, source=Complaint.Source.API,
                                              preferred_language=translation.get_language_from_request(request))
        return Response({"id": str(complaint.id), "tracking_code": complaint.tracking_code,
                         "status": complaint.status}, status=status.HTTP_201_CREATED)


class ComplaintTrackView(APIView):
    """The tracking code is the customer's secret: it shows that one complaint only."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: ComplaintPublic, 404: Detail})
    def get(self, request: Request, tracking_code: str) -> Response:
        complaint = selectors.complaint_get_by_tracking_code(tracking_code=tracking_code)
        if complaint is None:
            return Response({"detail": errors.TRACKING_NOT_FOUND}, status=status.HTTP_404_NOT_FOUND)
        return Response(selectors.complaint_public_data(complaint=complaint))


Queue = inline_serializer("Queue", fields={"count": serializers.IntegerField(),
                                           "results": QueueItemOut(many=True)})


# Whose complaints (selectors.teams.holder_filters_from), on the queue and in search.
HOLDER_PARAMETERS = [
    OpenApiParameter("team", str, description="a team id, `mine` (the caller's teams) or `none` (no team yet)"),
    OpenApiParameter("assignee", str, description="a staff user id, `me` or `none` (nobody holds it)"),
]


def _viewer(request: Request) -> selectors.Viewer:
    """What the caller may see (selectors.teams): their teams' complaints, or all."""
    return selectors.viewer_of(services.acting_user(request.user))


class QueueView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=[s.value for s in Complaint.Status]),
            OpenApiParameter("category", str), OpenApiParameter("model", str),
            OpenApiParameter("limit", int, description=f"at most {selectors.QUEUE_LIMIT}"),
            *HOLDER_PARAMETERS,
        ],
        responses={200: Queue},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        problems: dict[str, list[str]] = {}
        team, assignee = selectors.holder_filters_from(params, problems)
        if problems:
            raise InvalidInput(problems)
        for name in ("status", "category", "model"):
            # Postgres refuses a NUL in a text parameter (a DataError, so a 500 if let through).
            if not text_storable(params.get(name, "")):
                raise InvalidInput({name: [errors.QUEUE_PARAMETER_UNSTORABLE]})
        status_filter = params.get("status") or None
        if status_filter is not None and status_filter not in Complaint.Status.values:
            raise InvalidInput({"status": [errors.QUEUE_STATUS_UNKNOWN.format(value=status_filter)]})
        try:
            limit = min(selectors.QUEUE_LIMIT, max(1, int(params.get("limit", selectors.QUEUE_LIMIT))))
        except ValueError:
            raise InvalidInput({"limit": [errors.QUEUE_LIMIT_NOT_WHOLE]}) from None
        complaints = selectors.complaint_queue(status=status_filter, category=params.get("category") or None,
                                               model=params.get("model") or None, limit=limit,
                                               viewer=_viewer(request), team=team, assignee=assignee)
        items = selectors.queue_items(complaints=complaints)
        return Response({"count": len(items), "results": items})


SearchResults = inline_serializer("SearchResults", fields={
    "count": serializers.IntegerField(allow_null=True, help_text="complaints matching; null when more than "
                                                                   f"{selectors.SEARCH_RANK_MAX} do"),
    "page": serializers.IntegerField(), "pages": serializers.IntegerField(allow_null=True),
    "page_size": serializers.IntegerField(), "has_next": serializers.BooleanField(),
    "order": serializers.ChoiceField(choices=["relevance", "newest"],
                                     help_text="best match first, or newest first for broad words"),
    "results": QueueItemOut(many=True)})


class SearchView(APIView):
    """GET /api/search/: full-text search over complaints and their notes, replies and
    customer messages (English and Russian stemming), filtered, one page at a time."""
    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="words to find (web-search syntax: \"a phrase\", -not, or)"),
            OpenApiParameter("status", str, enum=[s.value for s in Complaint.Status]),
            OpenApiParameter("category", str), OpenApiParameter("language", str),
            OpenApiParameter("escalated", bool),
            OpenApiParameter("since", str, description="YYYY-MM-DD, submitted on or after"),
            OpenApiParameter("until", str, description="YYYY-MM-DD, submitted on or before"),
            OpenApiParameter("page", int), OpenApiParameter("page_size", int,
                                                            description=f"at most {selectors.SEARCH_PAGE_SIZE_MAX}"),
            *HOLDER_PARAMETERS,
        ],
        responses={200: SearchResults},
    )
    def get(self, request: Request) -> Response:
        filters = selectors.search_filters_from(request.query_params)
        page, size = selectors.search_paging_from(request.query_params)
        found = selectors.search_page(filters, viewer=_viewer(request), page=page, page_size=size)
        complaints = found.pop("complaints")
        return Response({**found, "results": selectors.queue_items(complaints=complaints)})


class StaffComplaintView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: QueueItemOut, 404: Detail})
    def get(self, request: Request, complaint_id) -> Response:
        items = selectors.queue_items_by_ids(complaint_ids=[complaint_id])
        if not items or not _viewer(request).sees_item(items[0]):
            raise Complaint.DoesNotExist
        return Response(items[0])


AssignmentIn = inline_serializer("AssignmentIn", {
    "team": serializers.IntegerField(required=False, allow_null=True, help_text="a team id; null: no team"),
    "agent": serializers.IntegerField(required=False, allow_null=True,
                                      help_text="a staff user id; null: nobody holds it"),
})


DuplicateIn = inline_serializer("DuplicateIn", {
    "of": serializers.UUIDField(help_text="the complaint this one is about the same matter as"),
    "merge": serializers.BooleanField(required=False, help_text="also resolve this one into it"),
})


class DuplicateView(APIView):
    """POST /api/staff/complaints/<id>/duplicate/: link it to the complaint it duplicates,
    or merge it into that one (resolved; its text a note there)."""
    permission_classes = [IsAdminUser]

    @extend_schema(request=DuplicateIn, responses={200: QueueItemOut, 400: FieldErrors, 404: Detail, 409: Detail})
    def post(self, request: Request, complaint_id) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        services.complaint_link_duplicate(complaint_id=complaint_id, by=services.acting_user(request.user),
                                          of=data.get("of", ""), merge=data.get("merge") is True)
        return Response(selectors.queue_items_by_ids(complaint_ids=[complaint_id])[0])


class AssignmentView(APIView):
    """POST /api/staff/complaints/<id>/assignment/: give a complaint to a team and/or an
    agent (a key left out stays as it is, null clears it); on the complaint's timeline."""
    permission_classes = [IsAdminUser]

    @extend_schema(request=AssignmentIn, responses={200: QueueItemOut, 400: FieldErrors, 404: Detail, 409: Detail})
    def post(self, request: Request, complaint_id) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        services.complaint_assign(complaint_id=complaint_id, by=services.acting_user(request.user), data=data)
        return Response(selectors.queue_items_by_ids(complaint_ids=[complaint_id])[0])


MessageIn = inline_serializer("MessageIn", {"body": serializers.CharField(max_length=MAX_MESSAGE_CHARS)})


CorrectionIn = inline_serializer("CorrectionIn", {
    "kind": serializers.ChoiceField(choices=Correction.Kind.choices),
    "value": serializers.CharField(required=False, help_text="the right category, for kind `category`")})
CorrectionOut = inline_serializer("CorrectionOut", {
    "id": serializers.IntegerField(), "kind": serializers.CharField(), "value": serializers.CharField(),
    "model_name": serializers.CharField(), "model_version": serializers.CharField(), "arm": serializers.CharField()})


class CorrectionView(APIView):
    """POST /api/staff/complaints/<id>/corrections/: tell the model it was wrong (the
    category, not a complaint at all, urgency too high or too low)."""
    permission_classes = [IsAdminUser]

    @extend_schema(request=CorrectionIn, responses={201: CorrectionOut, 400: FieldErrors, 404: Detail})
    def post(self, request: Request, complaint_id) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        correction = services.complaint_correct(complaint_id=complaint_id, by=services.acting_user(request.user),
                                                kind=data.get("kind"), value=data.get("value", ""))
        return Response({"id": correction.pk, "kind": correction.kind, "value": correction.value,
                         "model_name": correction.model_name, "model_version": correction.model_version,
                         "arm": correction.arm}, status=status.HTTP_201_CREATED)


class StaffActionView(APIView):
    """POST /api/staff/complaints/<id>/<action>/: claim, release, resolve, notes, replies.

    A refused action (someone else claimed it first) is a 409 whose `detail` says why,
    so the second of two staff clicking at once is told immediately.
    """

    permission_classes = [IsAdminUser]
    # The API names the actions that add a message in the plural (a note is a resource
    # created here); the others as services.STAFF_ACTIONS does.
    plural = {"notes": "note", "replies": "reply"}

    @extend_schema(request=MessageIn, responses={200: QueueItemOut, 400: FieldErrors, 404: Detail, 409: Detail})
    def post(self, request: Request, complaint_id, action: str) -> Response:
        name = self.plural.get(action, action)
        if name not in services.STAFF_ACTIONS or (name in services.STAFF_ACTIONS_WITH_BODY and name == action):
            raise exceptions.NotFound(errors.NOT_FOUND)
        # The service looks the complaint up (404) before it judges the body (400), in
        # its own transaction: no separate existence check to race with.
        body = request.data.get("body") if isinstance(request.data, dict) else None
        services.staff_act(action=name, complaint_id=complaint_id, by=services.acting_user(request.user), body=body)
        return Response(selectors.queue_items_by_ids(complaint_ids=[complaint_id])[0])
