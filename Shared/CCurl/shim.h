#ifndef CONVEYOR_CCURL_SHIM_H
#define CONVEYOR_CCURL_SHIM_H
#include <curl/curl.h>

// Swift cannot call C variadic functions, so `curl_easy_setopt` and `curl_easy_getinfo` are exposed
// through typed wrappers, one per argument kind.

/// Signature shared by CURLOPT_READFUNCTION and CURLOPT_WRITEFUNCTION.
typedef size_t (*conveyor_curl_data_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

/// Signature of CURLOPT_XFERINFOFUNCTION.
typedef int (*conveyor_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                               curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode conveyor_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode conveyor_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode conveyor_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode conveyor_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode conveyor_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode conveyor_curl_setopt_data_callback(CURL *handle, CURLoption option,
                                                          conveyor_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode conveyor_curl_setopt_xferinfo_callback(CURL *handle, CURLoption option,
                                                              conveyor_curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode conveyor_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode conveyor_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
