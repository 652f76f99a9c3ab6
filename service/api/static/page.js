// Entry point of the page: the index status everywhere, then the view the address asks for.
import { startAsk } from "./ask.js";
import { startStatus } from "./common.js";
import { startView } from "./view.js";

startStatus();
if (window.location.pathname === "/view") startView();
else startAsk();
