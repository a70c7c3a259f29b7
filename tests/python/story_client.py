#!/usr/bin/python3
"""A city system's client of Civic Points, in Python, built from the .proto files alone.

It talks to the gateway's gRPC port with the modules protoc generates from protos/ (see README:
"A client in Python") and runs the core of the story: the admin sets up a street, its staff open
a rider station and an activity; a rider registers, checks in at the community, enrols and checks
in at the activity with the rotating code; staff verify a service the rider reported, the points
reach the ledger and the ranking; the rider redeems a gift in an exchange window and the station
keeper hands it over. It asserts every answer and the refusals a user meets on the way, and exits
non-zero on the first surprise.

    PYTHONPATH=build/python /usr/bin/python3 tests/python/story_client.py \\
        --gateway=127.0.0.1:50050 --admin-phone=13900000000 --admin-password=...

Under ctest the addresses and the admin's credentials come from CP_SUITE_* (fixture cp_suite).
Points come from a verified service record rather than a confirmed attendance: attendance is
confirmed from the activity's start, which is at least 10 minutes after it is created.
"""

import argparse
import os
import sys
import time

import grpc
from google.protobuf import timestamp_pb2

from civicpoints.activity.v1 import activity_pb2, activity_service_pb2_grpc, place_pb2, \
    service_record_pb2
from civicpoints.common.v1 import ranking_pb2, role_pb2, types_pb2
from civicpoints.identity.v1 import identity_service_pb2, identity_service_pb2_grpc
from civicpoints.ledger.v1 import ledger_service_pb2, ledger_service_pb2_grpc
from civicpoints.rewards.v1 import exchange_window_pb2, gift_pb2, redemption_pb2, \
    rewards_service_pb2, rewards_service_pb2_grpc

# 清远西街 in 大同: the station, and a phone 50 m from it.
STATION_LAT, STATION_LON = 40.0937, 113.2956
NEAR_LAT = 40.0941


class Gateway:
    """The four services' stubs on one channel to the gateway, and a call helper that sends the
    bearer token and raises on any status but the one expected."""

    def __init__(self, address):
        self.channel = grpc.insecure_channel(address)
        grpc.channel_ready_future(self.channel).result(timeout=10)
        self.identity = identity_service_pb2_grpc.IdentityServiceStub(self.channel)
        self.activity = activity_service_pb2_grpc.ActivityServiceStub(self.channel)
        self.ledger = ledger_service_pb2_grpc.LedgerServiceStub(self.channel)
        self.rewards = rewards_service_pb2_grpc.RewardsServiceStub(self.channel)

    def call(self, method, request, token=None):
        """Calls a stub method with `token` as `authorization: Bearer ...`; returns the response."""
        metadata = [("authorization", "Bearer " + token)] if token else []
        return method(request, metadata=metadata, timeout=30)

    def refused(self, code, method, request, token=None):
        """Calls a method that must fail with `code`; returns the error's message."""
        try:
            self.call(method, request, token)
        except grpc.RpcError as e:
            check(e.code() == code, f"expected {code.name}, got {e.code().name}: {e.details()}")
            return e.details()
        raise AssertionError(f"expected {code.name}, the call succeeded")


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def timestamp_in(seconds):
    ts = timestamp_pb2.Timestamp()
    ts.FromSeconds(int(time.time() + seconds))
    return ts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gateway", default=os.environ.get("CP_SUITE_GATEWAY_ADDR",
                                                            "127.0.0.1:50050"))
    parser.add_argument("--admin-phone", default=os.environ.get("CP_SUITE_ADMIN_PHONE",
                                                                "13900000000"))
    parser.add_argument("--admin-password", default=os.environ.get("CP_SUITE_ADMIN_PASSWORD"))
    args = parser.parse_args()
    if not args.admin_password:
        parser.error("--admin-password (or CP_SUITE_ADMIN_PASSWORD) is required")

    gw = Gateway(args.gateway)
    run = f"py{int(time.time()) % 1000000}"       # names and keys unique to this run
    phones = iter(range(int(time.time()) % 10000 * 1000, 10**8))

    def key(what):
        return f"{run}-{what}"

    def phone():
        return f"159{next(phones):08d}"

    # --- The admin sets up 平城区 / 清远街道 / 清远西街社区 and its staff. ---
    login = gw.call(gw.identity.Login, identity_service_pb2.LoginRequest(
        phone=args.admin_phone, password=args.admin_password))
    check(not login.password_change_required, "the admin still has to change the password")
    admin = login.tokens.access_token

    def org(parent, level, code, name):
        return gw.call(gw.identity.CreateOrgNode, identity_service_pb2.CreateOrgNodeRequest(
            parent_id=parent, level=level, code=key(code), name=f"{name}·{run}"), admin).node
    district = org("root", types_pb2.ORG_LEVEL_DISTRICT, "pc", "平城区")
    street = org(district.org_id, types_pb2.ORG_LEVEL_STREET, "qy", "清远街道")
    west = org(street.org_id, types_pb2.ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区")

    def staff(name, role, org_id):
        """A person with `role` at `org_id`, signed in after the first-login password change."""
        number = phone()
        person = gw.call(gw.identity.CreatePerson, identity_service_pb2.CreatePersonRequest(
            idempotency_key=key("person-" + number), phone=number, display_name=name,
            initial_password="Initial-pass-1"), admin).person
        gw.call(gw.identity.GrantRole, identity_service_pb2.GrantRoleRequest(
            person_id=person.person_id, role=role, org_id=org_id), admin)
        first = gw.call(gw.identity.Login, identity_service_pb2.LoginRequest(
            phone=number, password="Initial-pass-1"))
        check(first.password_change_required, "a new staff member must change the password")
        changed = gw.call(gw.identity.ChangePassword, identity_service_pb2.ChangePasswordRequest(
            idempotency_key=key("first-login-" + number), current_password="Initial-pass-1",
            new_password="Staff-pass-2026"), first.tokens.access_token)
        return person.person_id, changed.tokens.access_token

    _, west_staff = staff("清远西街社工", role_pb2.ROLE_COMMUNITY_STAFF, west.org_id)
    _, street_staff = staff("清远街道干部", role_pb2.ROLE_STREET_STAFF, street.org_id)
    keeper_id, keeper = staff("驿站站长", role_pb2.ROLE_STATION_KEEPER, west.org_id)

    # --- Staff open the rider station and schedule a clean-up there. ---
    station = gw.call(gw.activity.CreatePlace, place_pb2.CreatePlaceRequest(
        idempotency_key=key("station"),
        place=place_pb2.Place(
            kind=place_pb2.PLACE_KIND_RIDER_STATION, name="清远西街小哥驿站",
            address="大同市平城区清远西街12号", community_id=west.org_id,
            location=types_pb2.GeoPoint(latitude=STATION_LAT, longitude=STATION_LON),
            opening_hours=place_pb2.OpeningHours(always_open=True),
            keeper_person_id=keeper_id)), west_staff).place.place_id

    cleanup = gw.call(gw.activity.CreateActivity, activity_pb2.CreateActivityRequest(
        idempotency_key=key("activity"),
        activity=activity_pb2.Activity(
            title="大西街一号小区环境整治",
            category=activity_pb2.ACTIVITY_CATEGORY_ENVIRONMENTAL_CLEANUP,
            place_id=station, organiser_org_id=west.org_id, capacity=30,
            start_time=timestamp_in(11 * 60), end_time=timestamp_in(131 * 60))),
        west_staff).activity

    # --- A rider registers and checks in at the community with the station's code. ---
    policy = gw.call(gw.identity.GetPrivacyPolicy, identity_service_pb2.GetPrivacyPolicyRequest())
    registered = gw.call(gw.identity.RegisterRider, identity_service_pb2.RegisterRiderRequest(
        idempotency_key=key("register"), phone=phone(), password="Rider-pass-2026",
        display_name="王师傅",
        consent=identity_service_pb2.RiderConsent(
            policy_version=policy.policy_version,
            purposes=[p.purpose for p in policy.purposes])))
    rider, rider_token = registered.person.person_id, registered.tokens.access_token

    code = gw.call(gw.identity.GetCheckInCode, identity_service_pb2.GetCheckInCodeRequest(
        org_id=west.org_id), keeper).code.code
    home = gw.call(gw.identity.CheckInWithCode, identity_service_pb2.CheckInWithCodeRequest(
        idempotency_key=key("community-checkin"), code=code), rider_token).check_in
    check(home.community_id == west.org_id, "the rider's home community")

    # --- The rider enrols and checks in at the activity with the rotating code. ---
    enrolled = gw.call(gw.activity.EnrolInActivity, activity_pb2.EnrolInActivityRequest(
        activity_id=cleanup.activity_id, idempotency_key=key("enrol")), rider_token)
    check(enrolled.enrolment.status == activity_pb2.ENROLMENT_STATUS_ENROLLED, "enrolled")
    shown = gw.call(gw.activity.GetCheckInCode, activity_pb2.GetCheckInCodeRequest(
        activity_id=cleanup.activity_id), west_staff).code

    def check_in(code, attempt):
        return activity_pb2.CheckInToActivityRequest(
            activity_id=cleanup.activity_id, code=code, location_accuracy_meters=10,
            location=types_pb2.GeoPoint(latitude=NEAR_LAT, longitude=STATION_LON),
            idempotency_key=key(attempt))
    wrong = str((int(shown[0]) + 5) % 10) + shown[1:]
    gw.refused(grpc.StatusCode.INVALID_ARGUMENT, gw.activity.CheckInToActivity,
               check_in(wrong, "checkin-wrong"), rider_token)
    at_activity = gw.call(gw.activity.CheckInToActivity, check_in(shown, "checkin"), rider_token)
    check(at_activity.enrolment.status == activity_pb2.ENROLMENT_STATUS_CHECKED_IN, "checked in")

    # --- The rider reports a problem on the road; community staff verify it: points. ---
    record = gw.call(gw.activity.SubmitServiceRecord, service_record_pb2.SubmitServiceRecordRequest(
        idempotency_key=key("record"),
        service_record=service_record_pb2.ServiceRecord(
            kind=service_record_pb2.SERVICE_RECORD_KIND_ROAD_OCCUPATION,
            description="清远西街菜市场门口占道经营，影响通行", address="清远西街12号",
            community_id=west.org_id,
            location=types_pb2.GeoPoint(latitude=STATION_LAT, longitude=STATION_LON))),
        rider_token).service_record
    verify = service_record_pb2.VerifyServiceRecordRequest(
        service_record_id=record.service_record_id, note="已核实，感谢")
    gw.refused(grpc.StatusCode.PERMISSION_DENIED, gw.activity.VerifyServiceRecord, verify,
               rider_token)                                    # riders cannot verify
    verified = gw.call(gw.activity.VerifyServiceRecord, verify, west_staff).service_record
    points = verified.award.points
    check(points > 0, "the verified record carries an award")

    # The award reaches the ledger through activity's relay, asynchronously: poll with a deadline.
    balance_req = ledger_service_pb2.GetBalanceRequest(person_id=rider)
    gw.refused(grpc.StatusCode.UNAUTHENTICATED, gw.ledger.GetBalance, balance_req)  # no token

    def balance(want):
        deadline = time.monotonic() + 30
        while True:
            try:
                account = gw.call(gw.ledger.GetBalance, balance_req, rider_token).account
                if account.available == want or time.monotonic() > deadline:
                    return account
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
    check(balance(points).available == points, f"{points} points in the ledger")

    rank = gw.call(gw.ledger.GetRank, ledger_service_pb2.GetRankRequest(
        person_id=rider,
        scope=types_pb2.OrgScope(level=types_pb2.ORG_LEVEL_COMMUNITY, org_id=west.org_id),
        period=ranking_pb2.RankingPeriod(kind=ranking_pb2.RANKING_PERIOD_KIND_ALL_TIME)),
        rider_token)
    check(rank.entry.rank == 1 and rank.entry.score == points, f"first in the community: {rank}")

    # --- An exchange window for the street's top 15, with a gift stocked at the station. ---
    cost = points - 1
    towel = gw.call(gw.rewards.CreateGift, rewards_service_pb2.CreateGiftRequest(
        idempotency_key=key("gift"), name="毛巾", points_cost=cost,
        category=gift_pb2.GIFT_CATEGORY_DAILY_NECESSITIES, owner_org_id=street.org_id),
        street_staff).gift.gift_id
    gw.call(gw.rewards.AddStationStock, rewards_service_pb2.AddStationStockRequest(
        idempotency_key=key("stock"), station_id=station, gift_id=towel, quantity=5,
        reason="街道办配送"), street_staff)
    window = gw.call(gw.rewards.CreateExchangeWindow, rewards_service_pb2.CreateExchangeWindowRequest(
        idempotency_key=key("window"),
        window=exchange_window_pb2.ExchangeWindow(
            title="清远西街驿站积分兑换日", owner_org_id=street.org_id, station_ids=[station],
            start_time=timestamp_in(60), end_time=timestamp_in(8 * 3600),
            gifts=[exchange_window_pb2.WindowGift(gift_id=towel, max_per_rider=1)],
            eligibility=exchange_window_pb2.EligibilityRule(ranking=exchange_window_pb2.RankingRule(
                scope=types_pb2.OrgScope(level=types_pb2.ORG_LEVEL_STREET, org_id=street.org_id),
                period=ranking_pb2.RankingPeriod(kind=ranking_pb2.RANKING_PERIOD_KIND_ALL_TIME),
                top_n=15)))),
        street_staff).window
    opened = gw.call(gw.rewards.OpenExchangeWindow, rewards_service_pb2.OpenExchangeWindowRequest(
        window_id=window.window_id), street_staff).window
    check(opened.state == exchange_window_pb2.EXCHANGE_WINDOW_STATE_OPEN, "window open")

    # --- The rider redeems; the keeper enters the pickup code at the station. ---
    order = gw.call(gw.rewards.CreateRedemption, rewards_service_pb2.CreateRedemptionRequest(
        idempotency_key=key("redeem"), window_id=window.window_id, station_id=station,
        gift_id=towel, quantity=1), rider_token).redemption
    check(order.state == redemption_pb2.REDEMPTION_STATE_READY and len(order.pickup_code) == 6,
          f"order ready with a pickup code: {order}")
    held = balance(points - cost)
    check(held.held == cost, f"{cost} points held for the order")

    def fulfil(attempt):
        return rewards_service_pb2.FulfilRedemptionRequest(
            idempotency_key=key(attempt), station_id=station, pickup_code=order.pickup_code)
    done = gw.call(gw.rewards.FulfilRedemption, fulfil("fulfil"), keeper).redemption
    check(done.state == redemption_pb2.REDEMPTION_STATE_FULFILLED, "handed over")
    gw.refused(grpc.StatusCode.FAILED_PRECONDITION, gw.rewards.FulfilRedemption,
               fulfil("fulfil-again"), keeper)                   # the code is used up

    account = balance(points - cost)
    check(account.available == points - cost and account.held == 0 and
          account.lifetime_spent == cost, f"the capture shows in the balance: {account}")
    print(f"story_client: OK — rider {rider} earned {points}, spent {cost}, "
          f"holds {account.available}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
