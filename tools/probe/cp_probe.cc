// cp_probe: asks a Civic Points server (or any gRPC server with health and reflection) how it is.
//
//   cp_probe health 127.0.0.1:50053 [SERVICE]   print the health status; exit 0 only if SERVING
//   cp_probe list 127.0.0.1:50053               print the services reflection lists
//   cp_probe describe 127.0.0.1:50053 SYMBOL    print a service, method or message as reflection
//                                               describes it (in .proto form)
//   cp_probe wait 127.0.0.1:50053 30s           wait until SERVING; exit 1 if not within the time
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <string>

#include "absl/time/time.h"
#include "common/probe/probe.h"

namespace {

int Usage() {
  std::cerr << "usage: cp_probe health ADDR [SERVICE] | list ADDR | describe ADDR SYMBOL | "
               "wait ADDR DURATION\n";
  return 2;
}

// The files reflection sent, built into a pool; the symbol printed in .proto form.
int Describe(const std::shared_ptr<grpc::Channel>& channel, const std::string& addr,
             const std::string& symbol) {
  namespace gp = ::google::protobuf;
  absl::StatusOr<std::vector<std::string>> files =
      civicpoints::probe::FilesForSymbol(channel, symbol, absl::Seconds(3));
  if (!files.ok()) {
    std::cerr << addr << ": " << files.status() << "\n";
    return 1;
  }
  gp::SimpleDescriptorDatabase db;
  for (const std::string& bytes : *files) {
    gp::FileDescriptorProto file;
    if (!file.ParseFromString(bytes) || !db.Add(file)) {
      std::cerr << addr << ": reflection sent a file that does not parse or repeats\n";
      return 1;
    }
  }
  gp::DescriptorPool pool(&db);
  if (const gp::ServiceDescriptor* d = pool.FindServiceByName(symbol)) {
    std::cout << d->DebugString();
  } else if (const gp::MethodDescriptor* m = pool.FindMethodByName(symbol)) {
    std::cout << m->DebugString();
  } else if (const gp::Descriptor* t = pool.FindMessageTypeByName(symbol)) {
    std::cout << t->DebugString();
  } else if (const gp::EnumDescriptor* e = pool.FindEnumTypeByName(symbol)) {
    std::cout << e->DebugString();
  } else if (const gp::FileDescriptor* f = pool.FindFileContainingSymbol(symbol)) {
    std::cout << f->DebugString();
  } else {
    std::cerr << addr << ": reflection's files do not declare " << symbol << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string command = argv[1];
  auto channel = civicpoints::probe::ProbeChannel(argv[2]);
  if (command == "health") {
    absl::StatusOr<std::string> status =
        civicpoints::probe::CheckHealth(channel, argc > 3 ? argv[3] : "", absl::Seconds(3));
    if (!status.ok()) {
      std::cerr << argv[2] << ": " << status.status() << "\n";
      return 1;
    }
    std::cout << *status << "\n";
    return *status == "SERVING" ? 0 : 1;
  }
  if (command == "list") {
    absl::StatusOr<std::vector<std::string>> names =
        civicpoints::probe::ListServices(channel, absl::Seconds(3));
    if (!names.ok()) {
      std::cerr << argv[2] << ": " << names.status() << "\n";
      return 1;
    }
    for (const std::string& name : *names) std::cout << name << "\n";
    return 0;
  }
  if (command == "describe" && argc == 4) return Describe(channel, argv[2], argv[3]);
  if (command == "wait" && argc == 4) {
    absl::Duration limit;
    if (!absl::ParseDuration(argv[3], &limit)) return Usage();
    if (civicpoints::probe::WaitUntilServing(channel, limit)) return 0;
    std::cerr << argv[2] << ": not SERVING within " << argv[3] << "\n";
    return 1;
  }
  return Usage();
}
