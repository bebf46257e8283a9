#pragma once

#include "courier/bus/await.hpp"
#include "courier/bus/bus.hpp"
#include "courier/bus/dedupe.hpp"
#include "courier/bus/envelope.hpp"
#include "courier/bus/errc.hpp"
#include "courier/bus/router.hpp"
#include "courier/bus/subject.hpp"
#include "courier/runtime.hpp"
#include "courier/runtime/delayed.hpp"
#include "courier/runtime/task.hpp"
