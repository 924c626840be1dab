// map.js: the behaviour of the live map page (GET /map). It reads the
// drivers from gpsrelayd's locations API, shows one marker and one list
// entry per driver, and moves them as updates arrive over one WebSocket
// (subscribing and unsubscribing drivers as they come and go); while no
// WebSocket is open it polls the current positions instead, so the page
// works, more slowly, where the live endpoint is not reachable. Clicking a
// driver draws its route of the last hour.
//
// URL parameters: lat, lng, radius (metres): the drivers near a point;
// order: follow that order's driver; token: a read token, passed to every
// API call (as a header and as the token query parameter, the only way a
// browser can give one to a WebSocket). Without lat/lng or order it shows
// a form asking for them.
//
// For tests the state is in the DOM: each driver's <li data-driver data-lat
// data-lng data-updates>, <body data-ws="open|closed">, and after a route
// is drawn <body data-route data-route-points>.
(function () {
  'use strict';

  const POLL_MS = 2000; // current positions while the WebSocket is down
  const NEARBY_MS = 10000; // re-query nearby drivers to pick up new ones
  const ROUTE_WINDOW_S = 3600;
  const FIRST_BACKOFF_MS = 1000;
  const MAX_BACKOFF_MS = 30000;

  const params = new URLSearchParams(window.location.search);
  const token = params.get('token') || '';
  const orderId = (params.get('order') || '').trim();
  const centre = { lat: parseNumber(params.get('lat')), lng: parseNumber(params.get('lng')) };
  const radius = parseNumber(params.get('radius')) || 5000;
  const config = window.gpsrelayMapConfig || { tiles: '' };
  const mode = orderId ? 'order' : validPoint(centre) ? 'nearby' : 'form';

  const statusEl = document.getElementById('status');
  const listEl = document.getElementById('drivers');
  const emptyEl = document.getElementById('empty');

  // id -> { id, item, detail, marker, record, updates, distance }
  const drivers = new Map();
  let selected = null;
  let routeLayer = null;
  let fitted = false;
  let lastError = '';

  // Graticule: lines of latitude and longitude with labels, redrawn as the
  // map moves, at a spacing that suits the zoom. The background of a map
  // without a tile server, so that positions still read as places.
  const Graticule = L.LayerGroup.extend({
    onAdd: function (map) {
      L.LayerGroup.prototype.onAdd.call(this, map);
      map.on('moveend', this.redraw, this);
      this.redraw();
    },

    onRemove: function (map) {
      map.off('moveend', this.redraw, this);
      L.LayerGroup.prototype.onRemove.call(this, map);
    },

    redraw: function () {
      this.clearLayers();
      const bounds = this._map.getBounds();
      const south = Math.max(bounds.getSouth(), -85);
      const north = Math.min(bounds.getNorth(), 85);
      const west = bounds.getWest();
      const east = bounds.getEast();
      const step = niceStep(Math.max(north - south, east - west) / 8);
      const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
      const line = { color: '#9aa7b4', weight: 1, opacity: 0.7, interactive: false };
      // Integer counters, so that the lines fall on exact multiples.
      for (let i = Math.ceil(south / step); i * step <= north; i++) {
        const lat = i * step;
        this.addLayer(L.polyline([[lat, west], [lat, east]], line));
        this.addLayer(label([lat, west], formatDegrees(lat, decimals, 'N', 'S'), [-4, 14]));
      }
      for (let i = Math.ceil(west / step); i * step <= east; i++) {
        const lng = i * step;
        this.addLayer(L.polyline([[south, lng], [north, lng]], line));
        const wrapped = L.Util.wrapNum(lng, [-180, 180], true);
        this.addLayer(label([south, lng], formatDegrees(wrapped, decimals, 'E', 'W'), [-4, 18]));
      }
    },
  });

  function niceStep(raw) {
    for (let power = -5; power <= 2; power++) {
      for (const factor of [1, 2, 5]) {
        const step = factor * Math.pow(10, power);
        if (step >= raw && step <= 30) return step;
      }
    }
    return 30;
  }

  function formatDegrees(value, decimals, positive, negative) {
    const text = Math.abs(value).toFixed(decimals) + '°';
    return value === 0 ? text : text + (value > 0 ? positive : negative);
  }

  function label(position, text, anchor) {
    const icon = L.divIcon({ className: 'grid-label', html: text, iconSize: null, iconAnchor: anchor });
    return L.marker(position, { icon: icon, interactive: false, keyboard: false });
  }

  // --- The map ---------------------------------------------------------

  const map = L.map('map', { worldCopyJump: true });
  if (mode === 'nearby') {
    map.fitBounds(L.latLng(centre.lat, centre.lng).toBounds(2 * radius));
    L.circle([centre.lat, centre.lng], {
      radius: radius, color: '#1f6feb', weight: 1, dashArray: '4 4', fill: false, interactive: false,
    }).addTo(map);
  } else {
    map.setView([20, 0], 2);
  }
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19 }).addTo(map);
  } else {
    map.getContainer().classList.add('no-tiles');
    new Graticule().addTo(map);
  }

  // --- Talking to gpsrelayd --------------------------------------------

  // `path` is relative to the page's directory, so a reverse proxy may
  // serve everything below a prefix.
  function apiUrl(path, query) {
    const url = new URL(path, document.baseURI);
    for (const [key, value] of Object.entries(query || {})) url.searchParams.set(key, String(value));
    if (token) url.searchParams.set('token', token);
    return url;
  }

  // The JSON body; null for a 404 (no such driver or order); throws with
  // the server's error message otherwise.
  async function getJson(path, query) {
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    const response = await fetch(apiUrl(path, query), { headers: headers, cache: 'no-store' });
    if (response.status === 404) return null;
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      // An answer that is not JSON: reported by its status below.
    }
    if (!response.ok) throw new Error((body && body.error) || 'HTTP ' + response.status);
    return body;
  }

  function driverPath(id, tail) {
    return 'api/v1/drivers/' + encodeURIComponent(id) + '/' + tail;
  }

  function orderPath() {
    return 'api/v1/orders/' + encodeURIComponent(orderId) + '/driver-location';
  }

  // --- Drivers: list entries and markers --------------------------------

  function addDriver(id) {
    const item = document.createElement('li');
    item.dataset.driver = id;
    item.dataset.updates = '0';
    const button = document.createElement('button');
    button.type = 'button';
    const name = document.createElement('span');
    name.className = 'id';
    name.textContent = id;
    const detail = document.createElement('span');
    detail.className = 'detail';
    button.append(name, detail);
    button.addEventListener('click', () => showRoute(id));
    item.append(button);
    listEl.append(item);
    const driver = { id, item, detail, marker: null, record: null, updates: 0, distance: null };
    drivers.set(id, driver);
    emptyEl.hidden = true;
    return driver;
  }

  function removeDriver(id) {
    const driver = drivers.get(id);
    if (!driver) return;
    if (driver.marker) driver.marker.remove();
    driver.item.remove();
    drivers.delete(id);
    if (selected === id) clearRoute();
    emptyEl.hidden = drivers.size > 0;
  }

  function isRecord(record) {
    return record && typeof record.driver_id === 'string' && record.driver_id !== '' &&
      Number.isFinite(record.latitude) && Number.isFinite(record.longitude);
  }

  // Applies a location record (from nearby, a poll or a push). Older
  // records than the one shown are ignored, and so is the same one again
  // (polls repeat it): data-updates counts the positions shown.
  // `create`: a record of a driver not listed adds it (order mode: the
  // order's driver may change); else it is ignored (a push that crossed an
  // unsubscribe).
  function applyRecord(record, create) {
    if (!isRecord(record)) return;
    let driver = drivers.get(record.driver_id);
    if (!driver) {
      if (!create) return;
      if (mode === 'order') for (const id of [...drivers.keys()]) removeDriver(id);
      driver = addDriver(record.driver_id);
    }
    const previous = driver.record;
    if (previous) {
      const age = Date.parse(record.timestamp) - Date.parse(previous.timestamp);
      if (age < 0) return;
      if (age === 0 && record.latitude === previous.latitude &&
          record.longitude === previous.longitude) {
        return;
      }
    }
    driver.record = record;
    driver.updates += 1;
    const position = L.latLng(record.latitude, record.longitude);
    if (!driver.marker) {
      driver.marker = L.marker(position, { title: driver.id, alt: 'Driver ' + driver.id })
        .bindTooltip(driver.id)
        .on('click', () => showRoute(driver.id))
        .addTo(map);
      // The order's driver is the point of the page: zoom to it.
      if (mode === 'order') map.setView(position, Math.max(map.getZoom(), 15));
    } else {
      driver.marker.setLatLng(position);
    }
    if (mode === 'nearby') driver.distance = map.distance([centre.lat, centre.lng], position);
    const item = driver.item;
    item.dataset.lat = String(record.latitude);
    item.dataset.lng = String(record.longitude);
    item.dataset.updates = String(driver.updates);
    driver.detail.textContent = describe(record, driver.distance);
    // Keep the followed driver in view; near a point, widen the view to
    // keep every listed driver in it as they move.
    if (!map.getBounds().contains(position)) {
      if (mode === 'order' || selected === driver.id) {
        map.panTo(position);
      } else if (mode === 'nearby' && fitted) {
        map.fitBounds(map.getBounds().extend(position), { padding: [20, 20] });
      }
    }
  }

  function describe(record, distance) {
    const parts = [];
    if (Number.isFinite(record.speed)) parts.push(Math.round(record.speed) + ' km/h');
    if (Number.isFinite(distance)) parts.push(formatDistance(distance));
    if (Number.isFinite(record.battery)) parts.push('battery ' + Math.round(record.battery) + '%');
    const at = new Date(record.timestamp);
    if (!Number.isNaN(at.getTime())) parts.push('at ' + at.toLocaleTimeString());
    if (record.order_id) parts.push('order ' + record.order_id);
    return parts.join(' · ');
  }

  function formatDistance(metres) {
    return metres < 1000 ? Math.round(metres) + ' m' : (metres / 1000).toFixed(1) + ' km';
  }

  // --- Routes ------------------------------------------------------------

  function select(id) {
    selected = id;
    for (const driver of drivers.values()) {
      if (driver.id === id) driver.item.setAttribute('aria-current', 'true');
      else driver.item.removeAttribute('aria-current');
    }
  }

  function clearRoute() {
    if (routeLayer) routeLayer.remove();
    routeLayer = null;
    selected = null;
    delete document.body.dataset.route;
    delete document.body.dataset.routePoints;
  }

  async function showRoute(id) {
    select(id);
    const end = Math.floor(Date.now() / 1000);
    try {
      const feature = await getJson(driverPath(id, 'route'), {
        start_time: end - ROUTE_WINDOW_S, end_time: end, format: 'geojson',
      });
      if (selected !== id) return; // another driver was clicked meanwhile
      if (routeLayer) routeLayer.remove();
      routeLayer = L.geoJSON(feature || [], {
        style: { color: '#d9480f', weight: 4, opacity: 0.8 },
        pointToLayer: (point, position) => L.circleMarker(position, { radius: 5 }),
      }).addTo(map);
      const points = (feature && feature.properties && feature.properties.points) || 0;
      document.body.dataset.route = id;
      document.body.dataset.routePoints = String(points);
      if (points > 1) map.fitBounds(routeLayer.getBounds(), { padding: [30, 30], maxZoom: 17 });
      setStatus(points > 0
        ? 'Route of ' + id + ': ' + points + ' points in the last hour.'
        : 'No route of ' + id + ' in the last hour.');
    } catch (e) {
      showError('Route of ' + id + ': ' + e.message);
    }
  }

  // --- Live updates: one WebSocket, else polling -------------------------

  const live = { socket: null, followed: new Set(), timer: null, backoff: FIRST_BACKOFF_MS };

  function setSocketState(state) {
    document.body.dataset.ws = state;
    refreshStatus();
  }

  // Opens the WebSocket unless one is open or a reconnect is scheduled.
  function ensureLive() {
    if (live.socket || live.timer) return;
    let path;
    let first = null;
    if (mode === 'order') {
      path = orderPath();
    } else {
      first = drivers.keys().next().value;
      if (first === undefined) return; // nothing to follow yet
      path = driverPath(first, 'location');
    }
    const url = apiUrl(path);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket;
    try {
      socket = new WebSocket(url.href);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    live.socket = socket;
    live.followed = new Set(first !== null ? [first] : []);
    socket.onopen = () => {
      live.backoff = FIRST_BACKOFF_MS;
      setSocketState('open');
      syncSubscriptions();
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (message && message.error) {
        showError('Live updates: ' + message.error);
        return;
      }
      applyRecord(message, mode === 'order');
      if (mode === 'order') syncSubscriptions();
    };
    socket.onclose = () => {
      live.socket = null;
      live.followed.clear();
      setSocketState('closed');
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (live.timer) return;
    live.timer = setTimeout(() => {
      live.timer = null;
      ensureLive();
    }, live.backoff);
    live.backoff = Math.min(live.backoff * 2, MAX_BACKOFF_MS);
  }

  // Makes the socket follow exactly the listed drivers. Following an
  // order, that is its driver too: a phone's update carries the order id
  // only when its app sends it, the driver's channel has every update.
  function syncSubscriptions() {
    const socket = live.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    for (const id of drivers.keys()) {
      if (live.followed.has(id)) continue;
      socket.send(JSON.stringify({ action: 'subscribe', driver_id: id }));
      live.followed.add(id);
    }
    for (const id of [...live.followed]) {
      if (drivers.has(id)) continue;
      socket.send(JSON.stringify({ action: 'unsubscribe', driver_id: id }));
      live.followed.delete(id);
    }
  }

  let polling = false;
  async function poll() {
    if (polling || document.body.dataset.ws === 'open') return;
    polling = true;
    try {
      if (mode === 'order') {
        applyRecord(await getJson(orderPath()), true);
      } else {
        const records = await Promise.all([...drivers.keys()].map(
          (id) => getJson(driverPath(id, 'location'))));
        for (const record of records) applyRecord(record, false);
      }
      clearError();
    } catch (e) {
      showError('Reading positions: ' + e.message);
    } finally {
      polling = false;
    }
  }

  async function refreshNearby() {
    try {
      const answer = await getJson('api/v1/drivers/nearby', {
        lat: centre.lat, lng: centre.lng, radius: Math.round(radius),
      });
      const records = (answer && Array.isArray(answer.drivers)) ? answer.drivers : [];
      const seen = new Set();
      for (const record of records) {
        if (!isRecord(record)) continue;
        seen.add(record.driver_id);
        if (!drivers.has(record.driver_id)) addDriver(record.driver_id);
        applyRecord(record, false);
      }
      for (const id of [...drivers.keys()]) if (!seen.has(id)) removeDriver(id);
      clearError();
      if (!fitted && drivers.size > 0) {
        fitted = true;
        const bounds = L.latLngBounds([[centre.lat, centre.lng]]);
        for (const driver of drivers.values()) if (driver.marker) bounds.extend(driver.marker.getLatLng());
        map.fitBounds(bounds, { padding: [40, 40], maxZoom: 16 });
      }
      syncSubscriptions();
      ensureLive();
    } catch (e) {
      showError('Nearby drivers: ' + e.message);
    }
  }

  // --- Status line ---------------------------------------------------------

  function setStatus(text) {
    statusEl.textContent = text;
    statusEl.classList.remove('error');
  }

  function showError(text) {
    lastError = text;
    statusEl.textContent = text;
    statusEl.classList.add('error');
  }

  function clearError() {
    if (!lastError) return;
    lastError = '';
    refreshStatus();
  }

  function refreshStatus() {
    if (lastError) return;
    const what = mode === 'order' ? 'order ' + orderId : drivers.size + ' driver(s) near the point';
    setStatus(document.body.dataset.ws === 'open'
      ? 'Live: following ' + what + '.'
      : 'Following ' + what + ' by polling every ' + POLL_MS / 1000 + ' s (no live connection).');
  }

  // --- Start -----------------------------------------------------------------

  function showForm() {
    const form = document.getElementById('search');
    form.hidden = false;
    form.elements.token.value = token;
    if (params.has('lat') || params.has('lng')) showError('lat and lng must be a valid point.');
    else setStatus('Choose a point (click the map) or an order.');
    map.on('click', (event) => {
      form.elements.lat.value = event.latlng.lat.toFixed(5);
      form.elements.lng.value = L.Util.wrapNum(event.latlng.lng, [-180, 180], true).toFixed(5);
    });
  }

  function parseNumber(text) {
    if (text === null || text.trim() === '') return NaN;
    return Number(text);
  }

  function validPoint(point) {
    return Number.isFinite(point.lat) && Number.isFinite(point.lng) &&
      Math.abs(point.lat) <= 90 && Math.abs(point.lng) <= 180;
  }

  if (mode === 'form') {
    showForm();
    emptyEl.hidden = true;
    return;
  }
  refreshStatus();
  if (mode === 'order') {
    poll().then(ensureLive);
  } else {
    refreshNearby();
    setInterval(refreshNearby, NEARBY_MS);
  }
  setInterval(poll, POLL_MS);
})();
