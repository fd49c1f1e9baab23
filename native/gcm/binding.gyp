{
  "targets": [
    {
      "target_name": "hanul_gcm",
      "sources": ["gcm.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
