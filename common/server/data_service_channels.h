// Channels to the four services that own the suite's data, for the read sides that gather from
// all of them at once (insights' overviews, the app's home screen in the events process).
#ifndef CIVICPOINTS_COMMON_SERVER_DATA_SERVICE_CHANNELS_H_
#define CIVICPOINTS_COMMON_SERVER_DATA_SERVICE_CHANNELS_H_

#include <memory>

namespace grpc {
class Channel;
}

namespace civicpoints::server {

struct DataServiceChannels {
  std::shared_ptr<grpc::Channel> identity;
  std::shared_ptr<grpc::Channel> activity;
  std::shared_ptr<grpc::Channel> ledger;
  std::shared_ptr<grpc::Channel> rewards;
};

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_DATA_SERVICE_CHANNELS_H_
