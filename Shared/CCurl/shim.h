#ifndef CONVEYOR_CCURL_SHIM_H
#define CONVEYOR_CCURL_SHIM_H
#include <curl/curl.h>
#endif
