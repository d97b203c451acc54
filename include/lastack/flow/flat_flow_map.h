// The flow table's index: four-tuple → the flow's slot in the table's own storage. One lookup
// per packet: a FlatIndex (flat open addressing, backward-shift erase) hashed by
// tcp::FourTupleHash.
#pragma once

#include "lastack/core/flat_index.h"
#include "lastack/tcp/four_tuple.h"

namespace lastack::flow {

using FlatFlowMap = FlatIndex<tcp::FourTuple, tcp::FourTupleHash>;

}  // namespace lastack::flow
