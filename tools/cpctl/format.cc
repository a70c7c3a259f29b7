#include "tools/cpctl/format.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace civicpoints::cpctl {
namespace {

namespace gp = google::protobuf;

// "PLACE_KIND_" for PlaceKind: the name of value 0 without its "UNSPECIFIED".
std::string PrefixOf(const gp::EnumDescriptor* e) {
  const gp::EnumValueDescriptor* zero = e->FindValueByNumber(0);
  if (zero == nullptr) return "";
  absl::string_view name = zero->name();
  if (absl::ConsumeSuffix(&name, "UNSPECIFIED")) return std::string(name);
  return "";
}

}  // namespace

absl::StatusOr<int> ParseEnumValue(const gp::EnumDescriptor* e, absl::string_view text,
                                   absl::string_view what) {
  std::string norm = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  absl::StrReplaceAll({{"-", "_"}, {" ", "_"}}, &norm);
  const gp::EnumValueDescriptor* v = nullptr;
  int number = 0;
  if (absl::SimpleAtoi(norm, &number)) {
    v = e->FindValueByNumber(number);
  } else {
    v = e->FindValueByName(absl::StrCat(PrefixOf(e), norm));
    if (v == nullptr) v = e->FindValueByName(norm);
  }
  if (v == nullptr || v->number() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", text, "' is not one of ", EnumChoices(e)));
  }
  return v->number();
}

std::string EnumValueLabel(const gp::EnumDescriptor* e, int value) {
  const gp::EnumValueDescriptor* v = e->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(value);
  if (value == 0) return "-";
  absl::string_view name = v->name();
  const std::string prefix = PrefixOf(e);
  absl::ConsumePrefix(&name, prefix);
  std::string out = absl::AsciiStrToLower(name);
  absl::StrReplaceAll({{"_", "-"}}, &out);
  return out;
}

std::string EnumChoices(const gp::EnumDescriptor* e) {
  std::vector<std::string> names;
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() == 0) continue;
    names.push_back(EnumValueLabel(e, e->value(i)->number()));
  }
  return absl::StrJoin(names, ", ");
}

const absl::TimeZone& LocalZone() {
  static const absl::TimeZone* zone = [] {
    auto* z = new absl::TimeZone;
    if (!absl::LoadTimeZone("Asia/Shanghai", z)) *z = absl::FixedTimeZone(8 * 3600);
    return z;
  }();
  return *zone;
}

absl::StatusOr<absl::Time> ParseTime(absl::string_view text, absl::string_view what) {
  const std::string t(absl::StripAsciiWhitespace(text));
  if (t == "now") return absl::Now();
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    absl::Duration d;
    std::string dur = t.substr(1);
    int days = 0;
    if (absl::EndsWith(dur, "d") && absl::SimpleAtoi(dur.substr(0, dur.size() - 1), &days)) {
      d = absl::Hours(24) * days;
    } else if (!absl::ParseDuration(dur, &d)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": '", text, "' is not a relative time like +2h, +30m or +1d"));
    }
    return t[0] == '+' ? absl::Now() + d : absl::Now() - d;
  }
  absl::Time out;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, t, &out, &err)) return out;
  for (const char* f :
       {"%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"}) {
    if (absl::ParseTime(f, t, LocalZone(), &out, &err)) return out;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": '", text,
      "' is not a time; use \"2026-11-29 10:00\" (Asia/Shanghai), RFC 3339, now or +2h"));
}

absl::StatusOr<std::string> ParseDay(absl::string_view text, absl::string_view what) {
  const std::string t(absl::StripAsciiWhitespace(text));
  if (t == "today") return absl::FormatTime("%Y-%m-%d", absl::Now(), LocalZone());
  absl::Time out;
  std::string err;
  if (t.size() == 10 && absl::ParseTime("%Y-%m-%d", t, LocalZone(), &out, &err)) return t;
  return absl::InvalidArgumentError(absl::StrCat(what, ": '", text, "' is not a day YYYY-MM-DD"));
}

void SetTime(absl::Time t, gp::Timestamp* out) {
  const int64_t s = absl::ToUnixSeconds(t);
  out->set_seconds(s);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(s))));
}

std::string FormatTime(const gp::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(t.seconds()), LocalZone());
}

namespace {

std::string ScalarText(const gp::Message& m, const gp::FieldDescriptor* f, int index) {
  const gp::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case gp::FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case gp::FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case gp::FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case gp::FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case gp::FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
    case gp::FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case gp::FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "yes" : "no";
    case gp::FieldDescriptor::CPPTYPE_ENUM:
      return EnumValueLabel(f->enum_type(),
                            rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f));
    case gp::FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      if (f->type() == gp::FieldDescriptor::TYPE_BYTES) return absl::StrCat(s.size(), " bytes");
      return s;
    }
    default:
      return "";
  }
}

void PrintMessage(const gp::Message& m, int indent, std::ostream& out);

// One-line text for the few message types that read better flat.
bool InlineText(const gp::Message& m, std::string* text) {
  const std::string& type = m.GetDescriptor()->full_name();
  if (type == "google.protobuf.Timestamp") {
    *text = FormatTime(static_cast<const gp::Timestamp&>(m));
    return true;
  }
  if (type == "civicpoints.common.v1.GeoPoint") {
    const gp::Reflection* r = m.GetReflection();
    const gp::Descriptor* d = m.GetDescriptor();
    *text = absl::StrCat(r->GetDouble(m, d->FindFieldByName("latitude")), ", ",
                         r->GetDouble(m, d->FindFieldByName("longitude")));
    return true;
  }
  if (type == "google.protobuf.Duration") {
    const gp::Reflection* r = m.GetReflection();
    const gp::Descriptor* d = m.GetDescriptor();
    *text = absl::FormatDuration(absl::Seconds(r->GetInt64(m, d->FindFieldByName("seconds"))));
    return true;
  }
  return false;
}

void PrintMessage(const gp::Message& m, int indent, std::ostream& out) {
  const gp::Reflection* r = m.GetReflection();
  std::vector<const gp::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  const std::string pad(indent, ' ');
  for (const gp::FieldDescriptor* f : fields) {
    if (f->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!f->is_repeated()) {
        out << pad << f->name() << ": " << ScalarText(m, f, 0) << "\n";
      } else {
        std::vector<std::string> items;
        for (int i = 0; i < r->FieldSize(m, f); ++i) items.push_back(ScalarText(m, f, i));
        out << pad << f->name() << ": " << absl::StrJoin(items, ", ") << "\n";
      }
      continue;
    }
    const int n = f->is_repeated() ? r->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      const gp::Message& sub =
          f->is_repeated() ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f);
      std::string text;
      if (InlineText(sub, &text)) {
        out << pad << f->name() << ": " << text << "\n";
      } else {
        out << pad << f->name() << (f->is_repeated() ? absl::StrCat("[", i, "]") : "") << ":\n";
        PrintMessage(sub, indent + 2, out);
      }
    }
  }
}

}  // namespace

void PrintRecord(const gp::Message& message, std::ostream& out) { PrintMessage(message, 0, out); }

std::string ToJson(const gp::Message& message) {
  std::string out;
  gp::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  (void)gp::util::MessageToJsonString(message, &out, opts);
  return out;
}

}  // namespace civicpoints::cpctl
