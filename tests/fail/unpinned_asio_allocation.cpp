// expect: compile every translation unit with -DASIO_DISABLE_STD_ALIGNED_ALLOC
// A unit built without the pin (here: Asio first, as a host's own code would start) is
// refused: it could not agree with the others on how Asio allocates (issue 14).
#undef ASIO_DISABLE_STD_ALIGNED_ALLOC
#include <asio/detail/config.hpp>

#include "smtpipe/config.hpp"
