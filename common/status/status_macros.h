// Early-return helpers for absl::Status and absl::StatusOr<T>.
//
// Debian 12's Abseil (20220623) lacks RETURN_IF_ERROR / ASSIGN_OR_RETURN; these keep the names of
// the later Abseil macros so an upgrade is a deletion. Example:
//
//   absl::StatusOr<Account> Ledger::Open(std::string_view id) {
//     RETURN_IF_ERROR(ValidateId(id));
//     ASSIGN_OR_RETURN(Account account, store_->Load(id));
//     return account;
//   }
#ifndef CIVICPOINTS_COMMON_STATUS_STATUS_MACROS_H_
#define CIVICPOINTS_COMMON_STATUS_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RETURN_IF_ERROR(expr)                                          \
  do {                                                                 \
    const ::absl::Status cp_status_macro_status_ = (expr);             \
    if (!cp_status_macro_status_.ok()) return cp_status_macro_status_; \
  } while (false)

#define CP_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define CP_STATUS_MACROS_CONCAT_(a, b) CP_STATUS_MACROS_CONCAT_INNER_(a, b)

#define CP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return statusor.status();         \
  lhs = *std::move(statusor)

// ASSIGN_OR_RETURN(lhs, rexpr): evaluates rexpr (a StatusOr<T>); on error returns its status,
// otherwise moves the value into lhs, which may be a declaration (`Foo foo`).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  CP_ASSIGN_OR_RETURN_IMPL_(CP_STATUS_MACROS_CONCAT_(cp_statusor_, __LINE__), lhs, rexpr)

#endif  // CIVICPOINTS_COMMON_STATUS_STATUS_MACROS_H_
