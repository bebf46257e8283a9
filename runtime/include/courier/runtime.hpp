#pragma once

#include "courier/runtime/actor.hpp"
#include "courier/runtime/actor_ref.hpp"
#include "courier/runtime/dead_letter.hpp"
#include "courier/runtime/executor.hpp"
#include "courier/runtime/manual_executor.hpp"
#include "courier/runtime/message.hpp"
#include "courier/runtime/monitor.hpp"
#include "courier/runtime/supervision.hpp"
#include "courier/runtime/system.hpp"
#include "courier/runtime/thread_pool.hpp"
