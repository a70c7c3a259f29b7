// The two kinds of rows `cpctl import` knows. Columns (header names, any order):
//
//   places: community,kind,name,address,latitude,longitude   required
//           services,hours,description,radius,keeper_id      optional
//   riders: phone,display_name,password                       required
//           community,platform,platform_rider_id             optional
//
// A place row is one CreatePlace; a rider row is one RegisterRider (checked in at `community` in
// the same transaction when given, with consent to every purpose of the current privacy policy, as
// signed on the paper form the file was typed from).
#ifndef CIVICPOINTS_TOOLS_CPCTL_ROW_IMPORTERS_H_
#define CIVICPOINTS_TOOLS_CPCTL_ROW_IMPORTERS_H_

#include <memory>

#include "tools/cpctl/importer.h"

namespace civicpoints::cpctl {

class Context;

std::unique_ptr<RowImporter> NewPlaceRowImporter(Context& ctx);
std::unique_ptr<RowImporter> NewRiderRowImporter(Context& ctx);

extern const char kPlaceColumnsHelp[];
extern const char kRiderColumnsHelp[];

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_ROW_IMPORTERS_H_
