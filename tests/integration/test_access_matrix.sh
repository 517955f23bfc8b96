#!/usr/bin/env bash
# The access matrix, generated from the route table the binary prints (`server --print-routes`),
# never listed by hand: every route × every kind of caller, with the exact answer expected.
# A caller the route refuses gets exactly 401 (no or invalid credentials: anonymous, an agent on
# a user route, a user on an agent route, a disabled user, an expired API token, a signed-out
# session), 403 (a role below the route's: code forbidden; an API token on a session-only route:
# code session_required) or, for enrolment, 401 without an enrolment token. An allowed caller
# passes the access check: never 401 or 403, and on a route about one server (scope) never 404
# either, since it names a server the caller may see. Writes send a body that is not JSON, so
# handlers that read one refuse it (400) before doing anything; the writes that read no body
# (disable, enable, delete) act on a collector enrolled for that one call.
. "$(dirname "$0")/auth_lib.sh"
start_server pga_access_matrix
"$PGA_BIN" server --print-routes >"$WORK/routes.json"
expect_eq "the printed table is the router's (the CLI prints JSON with every route)" true \
  "$(jq 'length > 30 and all(.[]; has("method") and has("pattern") and has("audience") and has("scope"))' "$WORK/routes.json")"

# --- the callers
for u in root:admin uma:user vic:viewer dora:viewer; do add_user "${u%%:*}" "${u##*:}"; done
ADMIN=$(sign_in root)
USER=$(sign_in uma)
VIEWER=$(sign_in vic)
DISABLED=$(sign_in dora)
expect_eq "an admin disables dora" 200 "$(as "$ADMIN" PATCH "/api/v1/users/$(user_id dora)" --data '{"disabled":true}')"
SIGNED_OUT=$(sign_in root)
expect_eq "a session signed out" 200 "$(as "$SIGNED_OUT" POST /api/v1/auth/logout)"
TOKEN_VIEWER=$(new_api_token "$ADMIN" matrix-viewer viewer)
TOKEN_USER=$(new_api_token "$ADMIN" matrix-user user)
TOKEN_ADMIN=$(new_api_token "$ADMIN" matrix-admin admin)
TOKEN_EXPIRED=$(new_api_token "$ADMIN" matrix-expired admin)
q "UPDATE pganalytics.api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'matrix-expired'" >/dev/null
for t in "$TOKEN_VIEWER" "$TOKEN_USER" "$TOKEN_ADMIN" "$TOKEN_EXPIRED"; do
  [[ "$t" == pga_api_* ]] || fail "an API token was created (got [$t])"
done

MAIN=$(enrol_collector main)
MAIN_SERVER=$(server_of "$MAIN")
INSTANCE=$(q "INSERT INTO pganalytics.postgresql_instances (server_id, name) VALUES ($MAIN_SERVER, 'main') RETURNING id")
grant "$ADMIN" uma "$MAIN_SERVER" >/dev/null
grant "$ADMIN" vic "$MAIN_SERVER" >/dev/null

CALLERS="anonymous agent viewer user admin token_viewer token_user token_admin disabled expired signed_out"
# rank_of CALLER: the role rank a user caller acts with (0 for callers that are no user).
rank_of() {
  case $1 in viewer | token_viewer) echo 1 ;; user | token_user) echo 2 ;; admin | token_admin) echo 3 ;; *) echo 0 ;; esac
}
audience_rank() { case $1 in viewer) echo 1 ;; user) echo 2 ;; admin) echo 3 ;; *) echo 0 ;; esac; }

# expected AUDIENCE SESSION_ONLY CALLER: pass, or the exact status (with its code for 403).
expected() {
  local audience=$1 session_only=$2 caller=$3
  case $audience in
    public) echo pass; return ;;
    enrolment) echo 401; return ;;
    agent) [ "$caller" = agent ] && echo pass || echo 401; return ;;
  esac
  local rank
  rank=$(rank_of "$caller")
  if [ "$rank" = 0 ]; then echo 401; return; fi
  if [ "$rank" -lt "$(audience_rank "$audience")" ]; then echo 403:forbidden; return; fi
  if [ "$session_only" = true ] && [[ "$caller" == token_* ]]; then echo 403:session_required; return; fi
  echo pass
}

# request CALLER METHOD PATH: the call as CALLER, with a non-JSON body for writes.
request() {
  local caller=$1 method=$2 path=$3 data=()
  [ "$method" != GET ] && data=(-H 'Content-Type: application/json' --data 'not json')
  case $caller in
    anonymous) call "$method" "$path" "${data[@]}" ;;
    agent) agent_call main "$method" "$path" "${data[@]}" ;;
    viewer) as "$VIEWER" "$method" "$path" "${data[@]}" ;;
    user) as "$USER" "$method" "$path" "${data[@]}" ;;
    admin) as "$ADMIN" "$method" "$path" "${data[@]}" ;;
    token_viewer) as "$TOKEN_VIEWER" "$method" "$path" "${data[@]}" ;;
    token_user) as "$TOKEN_USER" "$method" "$path" "${data[@]}" ;;
    token_admin) as "$TOKEN_ADMIN" "$method" "$path" "${data[@]}" ;;
    disabled) as "$DISABLED" "$method" "$path" "${data[@]}" ;;
    expired) as "$TOKEN_EXPIRED" "$method" "$path" "${data[@]}" ;;
    signed_out) as "$SIGNED_OUT" "$method" "$path" "${data[@]}" ;;
  esac
}

fresh=0
# target_id SCOPE METHOD OUTCOME: sets TARGET, what {id} becomes. A write about a collector that
# will pass gets a collector of its own (granted to uma and vic), so disabling or deleting it
# spoils nothing.
target_id() {
  local scope=$1 method=$2 outcome=$3
  case $scope in
    server) TARGET=$MAIN_SERVER ;;
    instance) TARGET=$INSTANCE ;;
    collector)
      TARGET=$MAIN
      if [ "$method" != GET ] && [ "$outcome" = pass ]; then
        fresh=$((fresh + 1))
        TARGET=$(enrol_collector "fresh$fresh")
        grant "$ADMIN" uma "$MAIN_SERVER" "$(server_of "$TARGET")" >/dev/null
        grant "$ADMIN" vic "$MAIN_SERVER" "$(server_of "$TARGET")" >/dev/null
      fi ;;
    *) TARGET=999999999 ;;  # names nothing: the handler's own answer (404, 400) passes the check
  esac
}

checked=0
while IFS=$'\t' read -r method pattern audience scope session_only; do
  for caller in $CALLERS; do
    outcome=$(expected "$audience" "$session_only" "$caller")
    path=${pattern//\{collector_id\}/$MAIN}
    if [[ "$path" == *"{id}"* ]]; then
      target_id "$scope" "$method" "$outcome"
      path=${path//\{id\}/$TARGET}
    fi
    status=$(request "$caller" "$method" "$path")
    code=$(jq -r '.error.code? // empty' "$WORK/body" 2>/dev/null || true)
    what="$method $pattern as $caller"
    checked=$((checked + 1))
    case $outcome in
      pass)
        if [ "$status" = 401 ] || [ "$status" = 403 ] || { [ "$scope" != none ] && [ "$status" = 404 ]; } ||
          [ "$status" = 000 ]; then
          fail "$what passes the access check (got $status $code)"
        fi ;;
      403:*)
        [ "$status:$code" = "$outcome" ] || fail "$what: expected $outcome, got $status:$code" ;;
      *)
        [ "$status" = "$outcome" ] || fail "$what: expected $outcome, got $status $code" ;;
    esac
  done
done < <(jq -r '.[] | [.method, .pattern, .audience, .scope, (.session_only | tostring)] | @tsv' "$WORK/routes.json")
routes=$(jq length "$WORK/routes.json")
expect_eq "every route was called by every caller" $((routes * 11)) "$checked"
[ "$failures" = 0 ] && pass "all $checked route × caller answers are the expected ones"

# The answers the matrix only checks as "passes": the right ones for real.
expect_eq "an enrolment token opens the enrolment route (the fixture's collectors enrolled)" \
  $((fresh + 1)) "$(q "SELECT count(*) FROM pganalytics.collectors")"
expect_eq "denials are audited" t "$(q "SELECT count(*) > 0 FROM pganalytics.audit_log WHERE action = 'access.denied'")"
expect_eq "a refused token is audited" t \
  "$(q "SELECT count(*) > 0 FROM pganalytics.audit_log WHERE action = 'auth.token' AND detail->>'reason' = 'user_disabled'")"
finish
