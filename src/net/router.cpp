// Route matching: split the path into segments, compare literals, bind {name} segments after
// percent-decoding them, and prefer the most literal pattern when several match. Handlers that
// take their body read are wrapped into staged ones that read it first.
#include "pganalytics/net/router.hpp"

#include <boost/url/pct_string_view.hpp>

#include <algorithm>
#include <set>

namespace pga::net {
namespace {

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return segments;
    path.remove_prefix(slash + 1);
  }
}

std::vector<std::string> parse_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  std::vector<std::string> segments;
  std::set<std::string_view> names;
  for (auto segment : split_path(pattern)) {
    bool braces = segment.find_first_of("{}") != std::string_view::npos;
    if (braces && (!is_param(segment) || segment.size() == 2 || !names.insert(segment).second))
      throw std::invalid_argument("bad parameter segment '" + std::string(segment) + "' in " + std::string(pattern));
    segments.emplace_back(segment);
  }
  return segments;
}

bool segments_match(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < path.size(); ++i)
    if (!is_param(pattern[i]) && pattern[i] != path[i]) return false;
  return true;
}

// True when `a` has a literal at the first position where the two patterns differ in kind.
bool more_literal(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (is_param(a[i]) != is_param(b[i])) return !is_param(a[i]);
  return false;
}

std::string decode_segment(std::string_view segment) {
  auto encoded = boost::urls::make_pct_string_view(segment);
  if (!encoded) throw ApiError(400, "bad_request", "malformed percent-encoding in path");
  return encoded->decode();
}

}  // namespace

void Router::add(std::string method, std::string_view pattern, StagedHandler handler, BodyPolicy body) {
  if (method.empty() || !handler) throw std::invalid_argument("route needs a method and a handler");
  auto segments = parse_pattern(pattern);
  for (const auto& route : routes_)
    if (route.method == method && route.segments == segments)
      throw std::invalid_argument("duplicate route " + method + " " + std::string(pattern));
  routes_.push_back(Route{std::move(method), std::string(pattern), std::move(segments), std::move(handler), body});
}

std::vector<Router::Entry> Router::entries() const {
  std::vector<Entry> entries;
  entries.reserve(routes_.size());
  for (const auto& route : routes_) entries.push_back({route.method, route.pattern});
  return entries;
}

void Router::add(std::string method, std::string_view pattern, Handler handler, BodyPolicy body) {
  if (!handler) throw std::invalid_argument("route needs a method and a handler");
  // The Router outlives every request, so the coroutine may refer to the stored handler.
  add(std::move(method), pattern,
      [handler = std::move(handler)](Request& request, BodyReader& body) -> boost::asio::awaitable<Response> {
        co_await body.read(request);
        co_return co_await handler(request);
      },
      body);
}

const Router::Route& Router::match(Request& request) const {
  auto path = split_path(request.path);
  const Route* best = nullptr;
  const Route* best_other_method = nullptr;
  std::set<std::string_view> allowed;
  for (const auto& route : routes_) {
    if (!segments_match(route.segments, path)) continue;
    const Route*& slot = route.method == request.method ? best : best_other_method;
    if (!slot || more_literal(route.segments, slot->segments)) slot = &route;
    if (route.method != request.method) allowed.insert(route.method);
  }
  if (!best) {
    if (!best_other_method) throw ApiError(404, "not_found", "no such resource");
    request.route = best_other_method->pattern;
    std::string allow;
    for (auto method : allowed) allow.append(allow.empty() ? "" : ", ").append(method);
    throw ApiError(405, "method_not_allowed", "method " + request.method + " is not allowed here")
        .with_header("Allow", allow);
  }
  request.route = best->pattern;
  request.path_params.clear();
  for (std::size_t i = 0; i < path.size(); ++i)
    if (is_param(best->segments[i]))
      request.path_params.emplace(best->segments[i].substr(1, best->segments[i].size() - 2), decode_segment(path[i]));
  return *best;
}

}  // namespace pga::net
