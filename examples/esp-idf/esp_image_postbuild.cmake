# esp_image_postbuild.cmake: after every ESP-IDF build, verify the bootloader, the partition
# table and the app with esp-image, merge them into one flash image from 0x0
# (build/<project>-merged.bin) and verify that too. Any damage fails the build.
#
# In the project's top-level CMakeLists.txt, after project(...):
#
#     include(${CMAKE_CURRENT_LIST_DIR}/esp_image_postbuild.cmake)
#
# esp-image must be installed in ESP-IDF's Python environment (after `. $IDF_PATH/export.sh`):
#     pip install esp-image
#
# The offsets are ESP-IDF's own: the bootloader at CONFIG_BOOTLOADER_OFFSET_IN_FLASH, the table
# at CONFIG_PARTITION_TABLE_OFFSET, the app at the offset of the partition the bootloader boots
# by default (factory, else ota_0). The flash mode, clock and size stay as built into the
# bootloader header. otadata needs no part of its own: ota_data_initial.bin is all 0xFF, and the
# merged file is 0xFF between the parts.

find_program(ESP_IMAGE esp-image)
if(NOT ESP_IMAGE)
    message(FATAL_ERROR "esp-image not found; install it into the ESP-IDF Python environment: "
                        "pip install esp-image")
endif()

idf_build_get_property(esp_image_build_dir BUILD_DIR)
idf_build_get_property(esp_image_project_bin PROJECT_BIN)
partition_table_get_partition_info(esp_image_app_offset "--partition-boot-default" "offset")

set(esp_image_bootloader "${esp_image_build_dir}/bootloader/bootloader.bin")
set(esp_image_table "${esp_image_build_dir}/partition_table/partition-table.bin")
set(esp_image_app "${esp_image_build_dir}/${esp_image_project_bin}")
string(REGEX REPLACE "\\.bin$" "-merged.bin" esp_image_merged "${esp_image_app}")

add_custom_command(TARGET app POST_BUILD
    COMMAND ${ESP_IMAGE} verify ${esp_image_bootloader} ${esp_image_table} ${esp_image_app}
    COMMAND ${ESP_IMAGE} merge -o ${esp_image_merged}
            ${CONFIG_BOOTLOADER_OFFSET_IN_FLASH}=${esp_image_bootloader}
            ${CONFIG_PARTITION_TABLE_OFFSET}=${esp_image_table}
            ${esp_image_app_offset}=${esp_image_app}
    COMMAND ${ESP_IMAGE} verify ${esp_image_merged}
    COMMENT "esp-image: verifying the build outputs and writing ${esp_image_merged}"
    VERBATIM)

# The bootloader and the table are separate targets; build them before app's post-build step.
if(TARGET bootloader)
    add_dependencies(app bootloader)
endif()
if(TARGET partition_table_bin)
    add_dependencies(app partition_table_bin)
endif()
