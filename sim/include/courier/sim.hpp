#pragma once

#include "courier/sim/check.hpp"
#include "courier/sim/fault.hpp"
#include "courier/sim/trace.hpp"
#include "courier/sim/world.hpp"
