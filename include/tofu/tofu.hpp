// tofu: asynchronous duplex peer-to-peer message passing over TCP/IP and Unix domain sockets.
// The umbrella header: everything a user touches.
#pragma once

#include "tofu/ampe.hpp"
#include "tofu/buffer.hpp"
#include "tofu/client.hpp"
#include "tofu/configurator.hpp"
#include "tofu/format.hpp"
#include "tofu/helpers.hpp"
#include "tofu/message.hpp"
#include "tofu/options.hpp"
#include "tofu/reactor.hpp"
#include "tofu/stats.hpp"
#include "tofu/status.hpp"
#include "tofu/version.hpp"
