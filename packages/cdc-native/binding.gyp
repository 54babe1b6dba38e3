{
  "targets": [
    {
      "target_name": "keymesh_cdc",
      "sources": ["src/addon.c", "src/fastcdc.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O3", "-std=c99", "-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c99"] },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } }
    }
  ]
}
