// import riders|places FILE.csv: bulk creation from a spreadsheet, one idempotent call per row.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/exit_codes.h"
#include "tools/cpctl/importer.h"
#include "tools/cpctl/row_importers.h"

namespace civicpoints::cpctl {
namespace {

struct ImportFlags {
  std::string file, errors;
  bool dry_run = false;
  double max_wait_seconds = 60;
};

absl::StatusOr<int> Import(Context& ctx, const ImportFlags& f, const std::string& what,
                           RowImporter& importer) {
  absl::StatusOr<CsvTable> table = ReadCsvFile(f.file);
  if (!table.ok()) return absl::InvalidArgumentError(table.status().message());
  ImportOptions options{.label = absl::StrCat("import ", what),
                        .key_prefix = absl::StrCat("cpctl-import-", what),
                        .max_wait = absl::Seconds(f.max_wait_seconds),
                        .dry_run = f.dry_run};
  absl::StatusOr<ImportResult> r = RunImport(*table, importer, options);
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kInvalidArgument) {
      return absl::InvalidArgumentError(absl::StrCat(f.file, ": ", r.status().message()));
    }
    return r.status();
  }
  for (const RowError& e : r->errors) {
    std::cerr << f.file << ": row " << e.row << (e.field.empty() ? "" : ", column " + e.field)
              << ": " << e.code << ": " << e.message << "\n";
  }
  if (!f.errors.empty()) {
    if (absl::Status s = WriteErrorReport(f.errors, r->errors); !s.ok()) return s;
  }
  if (f.dry_run) {
    std::cout << what << ": " << r->rows << " rows checked, " << r->errors.size()
              << " bad, nothing sent (--dry-run)\n";
  } else {
    std::cout << what << ": " << r->rows << " rows, " << r->created << " imported, " << r->existing
              << " already imported before, " << r->errors.size() << " bad\n";
  }
  return r->errors.empty() ? kExitOk : kExitImportPartial;
}

CLI::App* AddImport(CLI::App* parent, Context& ctx, const std::string& what,
                    const std::string& description, const char* columns,
                    std::unique_ptr<RowImporter> (*make)(Context&)) {
  auto f = std::make_shared<ImportFlags>();
  CLI::App* cmd = parent->add_subcommand(what, description);
  cmd->footer(std::string("\n") + columns +
              "\nRows are checked locally first, then each good row is sent as one call whose "
              "idempotency key is derived from the row's content: running the same file again "
              "imports nothing twice. Bad rows are reported on stderr (row number as a spreadsheet "
              "shows it, the header being row 1; column; the server's message) and with --errors "
              "as CSV. Exit code 7 when some rows were bad, 0 when all were imported.");
  cmd->add_option("file", f->file, "CSV file (UTF-8, comma separated, header row)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--errors", f->errors, "also write the bad rows to this CSV file");
  cmd->add_flag("--dry-run", f->dry_run, "check the rows locally, send nothing");
  cmd->add_option("--max-wait", f->max_wait_seconds,
                  "seconds one row may wait for a throttled or unavailable server")
      ->capture_default_str();
  cmd->callback([&ctx, f, what, make] {
    ctx.RunWithCode([&ctx, f, what, make]() -> absl::StatusOr<int> {
      std::unique_ptr<RowImporter> importer = make(ctx);
      return Import(ctx, *f, what, *importer);
    });
  });
  return cmd;
}

}  // namespace

void AddImportCommands(CLI::App& app, Context& ctx) {
  CLI::App* imp = app.add_subcommand("import", "import riders or places from a CSV file");
  imp->require_subcommand(1);
  AddImport(imp, ctx, "riders",
            "register riders (and check them in at their community) from a CSV file",
            kRiderColumnsHelp, &NewRiderRowImporter);
  AddImport(imp, ctx, "places", "create rider stations, love corners and venues from a CSV file",
            kPlaceColumnsHelp, &NewPlaceRowImporter);
}

}  // namespace civicpoints::cpctl
