/*
 * Cancellation of running SQLite statements, as an SQLite extension.
 *
 * A processor thread is stopped by terminating it, but termination only takes effect when
 * the thread returns to JavaScript: a statement running inside SQLite (a cartesian join, a
 * sort of millions of rows) would go on at 100% of a core until it ended by itself. This
 * extension keeps a registry of the connections that load it, each with the task its
 * statements currently run for, so another thread of the process can interrupt exactly the
 * statements of one task (sqlite3_interrupt: they fail with SQLITE_INTERRUPT at SQLite's next
 * check, after which the thread's termination takes effect). better-sqlite3 is built without
 * progress callbacks (SQLITE_OMIT_PROGRESS_CALLBACK), so interruption is the way in.
 *
 * The library is loaded once per process (dlopen returns the same handle to every thread),
 * so the registry below is shared by every thread of a worker process:
 *
 *   SELECT vo_cancel_key(k)   -- on a thread's connection: its statements now run for task k
 *   SELECT vo_cancel(k)       -- from any thread: statements running for task k stop
 *
 * A connection leaves the registry when it closes (the destructor of vo_cancel_key's data,
 * which SQLite calls while closing, under the registry's lock): vo_cancel never interrupts a
 * connection that is gone. sqlite3_interrupt is safe to call from another thread, and is a
 * no-op when nothing runs.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <cstdint>
#include <mutex>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <new>
#include <unordered_set>

namespace {

struct Connection {
  sqlite3 *db;
  /* The task its statements run for (0: none). */
  sqlite3_int64 key;
};

std::mutex registryLock;
std::unordered_set<Connection *> registry;

void setKey(sqlite3_context *ctx, int, sqlite3_value **argv) {
  const sqlite3_int64 key = sqlite3_value_int64(argv[0]);
  {
    std::lock_guard<std::mutex> guard(registryLock);
    static_cast<Connection *>(sqlite3_user_data(ctx))->key = key;
  }
  sqlite3_result_int64(ctx, key);
}

void cancel(sqlite3_context *ctx, int, sqlite3_value **argv) {
  const sqlite3_int64 key = sqlite3_value_int64(argv[0]);
  sqlite3_int64 interrupted = 0;
  if (key != 0) {
    std::lock_guard<std::mutex> guard(registryLock);
    for (Connection *connection : registry) {
      if (connection->key != key) continue;
      sqlite3_interrupt(connection->db);
      interrupted++;
    }
  }
  sqlite3_result_int64(ctx, interrupted);
}

/*
 * SELECT vo_release_memory(): gives the C heap's free pages back to the system (glibc's
 * malloc_trim, which also releases free pages inside the heap, not only at its end); 1 when
 * some were released. Not about statements, but this is the worker's one native library: the
 * thread pool calls it when its last idle thread has ended, because the malloc arenas of
 * ended threads otherwise keep tens of MiB that no thread uses.
 */
void releaseMemory(sqlite3_context *ctx, int, sqlite3_value **) {
#if defined(__GLIBC__)
  sqlite3_result_int(ctx, malloc_trim(0));
#else
  sqlite3_result_int(ctx, 0);
#endif
}

void forget(void *data) {
  Connection *connection = static_cast<Connection *>(data);
  {
    std::lock_guard<std::mutex> guard(registryLock);
    registry.erase(connection);
  }
  delete connection;
}

}  // namespace

extern "C" int sqlite3_vocancel_init(sqlite3 *db, char **, const sqlite3_api_routines *api) {
  SQLITE_EXTENSION_INIT2(api);
  Connection *connection = new (std::nothrow) Connection{db, 0};
  if (connection == nullptr) return SQLITE_NOMEM;
  try {
    std::lock_guard<std::mutex> guard(registryLock);
    registry.insert(connection);
  } catch (...) {
    delete connection;
    return SQLITE_NOMEM;
  }
  // Direct only: no view, trigger or index may call them (and ADQL cannot name them).
  const int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  // SQLite calls `forget` when the connection closes (and if this call fails).
  int rc = sqlite3_create_function_v2(db, "vo_cancel_key", 1, flags, connection, setKey, nullptr, nullptr, forget);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_create_function(db, "vo_cancel", 1, flags, nullptr, cancel, nullptr, nullptr);
  if (rc != SQLITE_OK) return rc;
  return sqlite3_create_function(db, "vo_release_memory", 0, flags, nullptr, releaseMemory, nullptr, nullptr);
}
