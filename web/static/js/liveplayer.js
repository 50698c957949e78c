// The live (and embedded) player: see player.js. A live stream starts at the live edge;
// an embedded replay's start second is applied by embed.js.
import { attachStream, captionsToggle } from "./player.js";

const video = document.getElementById("live-video");
if (video) {
  attachStream(video, video.dataset.stream, { live: true });
  const button = document.getElementById("captions-toggle");
  if (button) captionsToggle(video, button);
}
