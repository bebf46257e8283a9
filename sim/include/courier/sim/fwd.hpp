#pragma once

namespace courier::sim {

class world;
struct world_config;
class fault_handle;
class trace;
struct record;
struct check_options;
struct check_result;

}  // namespace courier::sim
