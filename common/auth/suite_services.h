// The public services of the suite's contracts, each with the process that hosts it: the one list
// the gateway routes by, identity takes the grantable API-key scopes from, and the contract and
// scope tests walk.
#ifndef CIVICPOINTS_COMMON_AUTH_SUITE_SERVICES_H_
#define CIVICPOINTS_COMMON_AUTH_SUITE_SERVICES_H_

namespace civicpoints::auth {

struct SuiteService {
  const char* backend;    // the process answering it ("ledger"), a gateway backend name
  const char* full_name;  // "civicpoints.ledger.v1.LedgerService"
};

// The insights and app services own no data and run in the events process, the suite's read side
// for consumers; either can move to a process of its own without a change to its contract.
inline constexpr SuiteService kSuiteServices[] = {
    {"identity", "civicpoints.identity.v1.IdentityService"},
    {"activity", "civicpoints.activity.v1.ActivityService"},
    {"ledger", "civicpoints.ledger.v1.LedgerService"},
    {"rewards", "civicpoints.rewards.v1.RewardsService"},
    {"events", "civicpoints.events.v1.EventService"},
    {"events", "civicpoints.insights.v1.InsightsService"},
    {"events", "civicpoints.app.v1.AppService"},
};

}  // namespace civicpoints::auth

#endif  // CIVICPOINTS_COMMON_AUTH_SUITE_SERVICES_H_
