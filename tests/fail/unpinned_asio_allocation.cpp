// expect: compile every unit with -DASIO_DISABLE_STD_ALIGNED_ALLOC
// A unit whose Asio was configured before smtpipe, after a standard header (so for
// aligned_alloc), is refused: it could not agree with the others on how Asio allocates
// (issue 14). Without the standard header first, smtpipe pins the unit itself.
#undef ASIO_DISABLE_STD_ALIGNED_ALLOC
#include <cstddef>  // a standard header first: Asio then chooses aligned_alloc

#include <asio/detail/config.hpp>

#include "smtpipe/config.hpp"
