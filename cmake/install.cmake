# Installed files besides the binaries: the configuration, the systemd unit,
# the sysusers.d entry and the man pages. Included from the top-level
# CMakeLists.txt; the gpsrelayd and gpsrelayctl install rules live there and
# in src/ctl.
#
# Cache variables (the packages set them; defaults suit a plain
# "cmake --install" with CMAKE_INSTALL_PREFIX=/usr):
#   GPSRELAY_SYSTEMD_UNIT_DIR   where gpsrelay.service goes
#                               (default: pkg-config systemd
#                               systemdsystemunitdir, else /lib/systemd/system)
#   GPSRELAY_SYSUSERS_DIR       where sysusers.d/gpsrelay.conf goes
#                               (default: pkg-config systemd sysusersdir,
#                               else /usr/lib/sysusers.d)
#   GPSRELAY_ENVIRONMENT_FILE   the unit's EnvironmentFile=
#                               (/etc/default/gpsrelay; the RPM spec sets
#                               /etc/sysconfig/gpsrelay)
#   GPSRELAY_INSTALL_SYSTEMD    install the unit and sysusers entry (ON)
#
# Man pages are written directly in roff (man/*.1, *.5, *.8): the source is
# the page. A generator would be one more build dependency on every
# distribution (pandoc pulls in hundreds of megabytes of Haskell libraries;
# scdoc and ronn are small but not in every RHEL repository), and the pages
# change rarely. scripts/check-packaging.sh lints them with groff and
# "man --warnings", as lintian does.

include(GNUInstallDirs)

set(GPSRELAY_INSTALL_SYSTEMD ON CACHE BOOL "Install the systemd unit and sysusers.d entry")
set(GPSRELAY_ENVIRONMENT_FILE "/etc/default/gpsrelay"
    CACHE STRING "EnvironmentFile= of gpsrelay.service")

set(_gpsrelay_unit_dir "/lib/systemd/system")
set(_gpsrelay_sysusers_dir "/usr/lib/sysusers.d")
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_get_variable(_gpsrelay_pc_unit_dir systemd systemdsystemunitdir)
  pkg_get_variable(_gpsrelay_pc_sysusers_dir systemd sysusersdir)
  if(_gpsrelay_pc_unit_dir)
    set(_gpsrelay_unit_dir "${_gpsrelay_pc_unit_dir}")
  endif()
  if(_gpsrelay_pc_sysusers_dir)
    set(_gpsrelay_sysusers_dir "${_gpsrelay_pc_sysusers_dir}")
  endif()
endif()
set(GPSRELAY_SYSTEMD_UNIT_DIR "${_gpsrelay_unit_dir}"
    CACHE PATH "Directory for gpsrelay.service")
set(GPSRELAY_SYSUSERS_DIR "${_gpsrelay_sysusers_dir}"
    CACHE PATH "Directory for the sysusers.d entry")

# /etc/gpsrelay/gpsrelay.conf. CMAKE_INSTALL_FULL_SYSCONFDIR is /etc for
# the /usr prefix (a relative "etc" would land in /usr/etc).
install(FILES etc/gpsrelay.conf
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/gpsrelay)

if(GPSRELAY_INSTALL_SYSTEMD)
  # The unit names the daemon, the configuration and the environment file
  # by absolute path; follow the install layout so that a prefix other than
  # /usr, or the RPM's /etc/sysconfig, still yields a working unit. The
  # checked-in file (the /usr layout) stays usable as is.
  file(READ "${PROJECT_SOURCE_DIR}/systemd/gpsrelay.service" _gpsrelay_unit)
  string(REPLACE "/usr/sbin/gpsrelayd" "${CMAKE_INSTALL_FULL_SBINDIR}/gpsrelayd"
         _gpsrelay_unit "${_gpsrelay_unit}")
  string(REPLACE "/etc/gpsrelay/gpsrelay.conf"
         "${CMAKE_INSTALL_FULL_SYSCONFDIR}/gpsrelay/gpsrelay.conf"
         _gpsrelay_unit "${_gpsrelay_unit}")
  string(REPLACE "EnvironmentFile=-/etc/default/gpsrelay"
         "EnvironmentFile=-${GPSRELAY_ENVIRONMENT_FILE}"
         _gpsrelay_unit "${_gpsrelay_unit}")
  file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/systemd/gpsrelay.service"
       CONTENT "${_gpsrelay_unit}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               "${PROJECT_SOURCE_DIR}/systemd/gpsrelay.service")

  install(FILES "${PROJECT_BINARY_DIR}/systemd/gpsrelay.service"
          DESTINATION "${GPSRELAY_SYSTEMD_UNIT_DIR}")
  install(FILES systemd/gpsrelay.sysusers
          DESTINATION "${GPSRELAY_SYSUSERS_DIR}"
          RENAME gpsrelay.conf)
endif()

install(FILES man/gpsrelayd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES man/gpsrelay.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
if(TARGET gpsrelayctl)
  install(FILES man/gpsrelayctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# The live map page (GET /map), read by gpsrelayd at start from
# ${CMAKE_INSTALL_FULL_DATADIR}/gpsrelay/map (its compiled-in GPSRELAY_DATA_DIR).
# Leaflet itself comes from the distribution's package (libjs-leaflet,
# js-leaflet) in /usr/share/javascript/leaflet.
install(FILES share/map/index.html share/map/map.js share/map/map.css
        DESTINATION ${CMAKE_INSTALL_DATADIR}/gpsrelay/map)

# The gRPC services' definitions, for clients to generate their stubs from
# (protoc -I /usr/share/gpsrelay/proto ...).
install(DIRECTORY proto/ DESTINATION ${CMAKE_INSTALL_DATADIR}/gpsrelay/proto
        FILES_MATCHING PATTERN "*.proto")
