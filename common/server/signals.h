// Termination signals handled on one thread: BlockTerminationSignals() must run in main before any
// thread starts, so every thread inherits the block and WaitForTerminationSignal() alone sees them.
#ifndef CIVICPOINTS_COMMON_SERVER_SIGNALS_H_
#define CIVICPOINTS_COMMON_SERVER_SIGNALS_H_

namespace civicpoints::server {

// Blocks SIGTERM, SIGINT and SIGHUP for the calling thread and the threads it creates later.
void BlockTerminationSignals();

// Waits until one of them arrives and returns its number.
int WaitForTerminationSignal();

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_SIGNALS_H_
